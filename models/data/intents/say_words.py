"""Say texts the model must copy rather than recall, for generate.py.

The say texts of the first pass come from short fixed lists (UTTERANCES, STATEMENTS), so a
model tuned on them learns those phrases, not copying: asked to "say demo complete" it wrote
"demonstr complete", its prior for 'dem'. These phrases are built from uncommon words and
made-up words, so the only way to get them right is to copy the person's words.

Two disjoint pools: "train" (generate.py's later training passes) and "copy_dev"
(dev_copy.jsonl, which measures copying on words no training line holds). Every real word
is in exactly one pool (alternate entries of RARE_WORDS); made-up words draw their first
syllable from onset lists whose first two letters differ between the pools.
"""

RARE_WORDS = [
    "walrus", "origami", "velvet", "harpsichord", "quokka", "nebula", "tambourine", "saffron",
    "zeppelin", "kumquat", "lighthouse", "marmalade", "pelican", "bagpipes", "glacier",
    "trombone", "cactus", "lantern", "meringue", "octopus", "paprika", "quartz", "raccoon",
    "sapphire", "tundra", "ukulele", "vortex", "wombat", "xylophone", "yodel", "zucchini",
    "avalanche", "blueprint", "calibration", "dumpling", "eclipse", "falcon", "gizmo",
    "hologram", "igloo", "jackpot", "kaleidoscope", "labyrinth", "mosaic", "nougat",
    "odyssey", "pistachio", "quiche", "rhubarb", "spectrum", "tortilla", "umbrella", "volcano",
    "waffle", "yeti", "zigzag", "anchovy", "bonsai", "cinnamon", "dandelion", "espresso",
    "flamingo", "gargoyle", "hazelnut", "iguana", "jellyfish", "koala", "lemonade", "mango",
    "narwhal", "oregano", "penguin", "quasar", "rosemary", "sardine", "tapioca", "unicorn",
    "vanilla", "wasabi", "yogurt", "zebra", "alpaca", "biscuit", "cobalt", "drizzle",
    "emerald", "fjord", "gondola", "hammock", "ivory", "jasmine", "ketchup", "lavender",
    "magnet", "nutmeg", "orchid", "pancake", "quilt", "radish", "sprocket", "teapot",
    "utopia", "vinegar", "whistle", "yacht", "zircon", "acorn", "buttermilk", "caramel",
    "dolphin", "eggplant", "fossil", "ginger", "hedgehog", "inkwell", "juniper", "kettle",
    "lollipop", "mustard", "noodle", "otter", "pinecone", "quince", "rocket", "seahorse",
    "thimble", "upgrade", "voltage", "windmill", "yarn", "zinnia", "armadillo", "broccoli",
    "crescent", "dynamo", "elixir", "firmware", "gazebo", "horizon", "impulse", "jigsaw",
    "keystone", "lagoon", "macaroon", "nectarine", "obsidian", "parsnip", "quiver", "riddle",
    "sundial", "tornado", "uplink", "vertex", "wizard", "yonder", "zenith", "astronaut",
    "benchmark", "capsule", "diploma", "enigma", "firefly", "gumdrop", "hurricane",
    "intermission", "jubilee", "kilowatt", "limerick", "midnight", "nightingale", "overture",
    "prototype", "quarantine", "recital", "symposium", "telescope", "ultrasound", "vaccine",
    "warehouse", "yesteryear", "zodiac", "rehearsal", "showcase", "checkpoint", "milestone",
    "handshake", "blackout", "firework", "lunchbox", "parachute", "snowstorm", "toolbox",
]

# Made-up words: an onset syllable from the pool's own list, then one or two more.
ONSETS = {
    "train": ["zor", "plim", "kav", "dro", "fen", "glu", "mib", "tra", "vos", "quel", "bri",
              "snu", "hap", "jol", "wex"],
    "copy_dev": ["blor", "tesk", "grim", "yav", "nud", "pha", "ston", "cre", "lup", "dax",
                 "fro", "kib", "mor", "sil", "vun"],
}
MIDDLES = ["a", "o", "i", "e", "u", "ba", "ko", "ri", "ten", "mo", "la", "vi", "dor", "sa", "ne"]
ENDINGS = ["x", "t", "n", "k", "sh", "ble", "r", "m", "", "z", "ck", "p", "ft", "nd", "lo"]

TEMPLATES = [
    "{w}", "{w}", "{w} {w}", "{w} {w} {w}", "{w} complete", "{w} is ready", "the {w} is here",
    "welcome to {W}", "hello {W}", "my name is {W}", "{w} time", "bring the {w}",
    "{W} says hi", "goodbye {W}", "the {w} has arrived", "{w} and {w}", "next stop {W}",
    "I love {w}", "{w} one two three", "say cheese and {w}",
]


def pool_words(pool):
    """The real words of a pool: alternate entries, so train and copy_dev share none."""
    return RARE_WORDS[0::2] if pool == "train" else RARE_WORDS[1::2]


def made_up_word(rng, pool):
    """A pronounceable word that is in no dictionary, e.g. 'zorbaft'."""
    word = rng.choice(ONSETS[pool]) + rng.choice(MIDDLES)
    if rng.random() < 0.4:
        word += rng.choice(MIDDLES)
    return word + rng.choice(ENDINGS)


def novel_word(rng, pool):
    if rng.random() < 0.6:
        return rng.choice(pool_words(pool))
    return made_up_word(rng, pool)


def novel_phrase(rng, pool, simple=False):
    """A say text of one to four uncommon or made-up words from pool."""
    while True:
        template = rng.choice(TEMPLATES)
        if simple and " and " in template:
            continue
        out = []
        for part in template.split(" "):
            if part == "{w}":
                out.append(novel_word(rng, pool))
            elif part == "{W}":
                out.append(novel_word(rng, pool).capitalize())
            else:
                out.append(part)
        return " ".join(out)
