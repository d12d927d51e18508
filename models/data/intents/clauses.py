"""One-clause commands (move, turn, wait, say) and their plans, for generate.py."""

from say_words import novel_phrase
from quantities import M, S, T, W, angle_digits, cap_first, digits, dist_digits, one, words


# ----------------------------------------------------------------------------- clauses
# Each returns (text, alts): alts is a list of plans (lists of steps), canonical first.

FWD_BASIC = ["move forward", "go forward", "drive forward", "go straight", "move ahead",
             "drive straight ahead", "go straight ahead", "drive ahead", "move straight ahead",
             "move forwards", "go forwards", "drive straight"]
BACK_BASIC = ["back up", "go back", "move back", "move backward", "move backwards",
              "drive backwards", "drive backward", "go backwards", "go backward", "reverse",
              "drive back", "back up by"]
FWD_SYN = ["scoot forward", "advance", "head forward", "roll forward", "roll ahead",
           "proceed forward", "proceed", "creep forward", "inch forward", "push forward",
           "travel forward", "step forward", "cruise forward", "make your way forward",
           "edge forward", "trundle forward", "walk forward", "nudge forward", "head straight",
           "roll straight ahead", "scoot ahead", "advance forward", "head straight on",
           "carry on forward", "zoom forward", "glide forward", "wheel forward", "forward"]
BACK_SYN = ["back off", "retreat", "back away", "roll back", "roll backward", "scoot back",
            "scoot backwards", "slide back", "step back", "pull back", "move in reverse",
            "drive in reverse", "go in reverse", "back yourself up", "withdraw", "ease back",
            "creep backwards", "edge back", "inch back", "wheel back", "reverse up",
            "go into reverse for", "head backwards", "travel backwards", "backwards"]


def move_clause(rng, dist_fn=dist_digits, syn=False, sign=None):
    sign = sign if sign is not None else (1 if rng.random() < 0.65 else -1)
    dtext, x = dist_fn(rng)
    if syn:
        verb = rng.choice(FWD_SYN if sign > 0 else BACK_SYN)
        if verb in ("forward", "backwards"):
            text = rng.choice([f"{verb} {dtext}", f"{dtext} {verb}"])
        else:
            text = f"{verb} {dtext}"
    elif rng.random() < 0.75:
        text = f"{rng.choice(FWD_BASIC if sign > 0 else BACK_BASIC)} {dtext}"
    else:
        verb = rng.choice(["move", "go", "drive"])
        where = rng.choice(["forward", "forwards", "ahead", "straight ahead"] if sign > 0
                           else ["backward", "backwards", "back", "in reverse"])
        text = f"{verb} {dtext} {where}"
    return text, one(M(sign * x))


LR = [("left", 1), ("right", -1)]
ROT = [("clockwise", -1), ("counterclockwise", 1), ("counter-clockwise", 1),
       ("anticlockwise", 1), ("anti-clockwise", 1)]


def turn_clause(rng, angle_fn=angle_digits, with_angle=None):
    d, sign = rng.choice(LR)
    if with_angle is None:
        with_angle = rng.random() < 0.7
    if not with_angle:
        text = rng.choice([f"turn {d}", f"turn {d}", f"turn to the {d}", f"turn to your {d}",
                           f"turn {d} 90 degrees", f"rotate {d}", f"turn {d} ninety degrees"])
        return text, one(T(sign * 90))
    atext, a = angle_fn(rng)
    text = rng.choice([f"turn {d} {atext}", f"turn {d} by {atext}", f"turn {atext} to the {d}",
                       f"turn {atext} {d}", f"rotate {d} {atext}", f"rotate {atext} to the {d}",
                       f"turn to the {d} {atext}", f"turn to the {d} by {atext}", f"rotate {atext} {d}"])
    return text, one(T(sign * a))


AROUND = ["turn around", "turn round", "turn yourself around", "face the other way",
          "face the opposite direction", "face the opposite way", "about face", "about-face",
          "do a U-turn", "make a U-turn", "do a u turn", "do a one-eighty", "do a 180",
          "turn 180 degrees", "do a half turn", "make a half turn", "turn to face behind you",
          "turn to face the way you came", "spin around to face backwards", "face backwards",
          "rotate 180 degrees", "turn one hundred eighty degrees", "pull a U-turn",
          "reverse your heading", "turn halfway around"]
FULL = ["spin all the way around", "do a full circle", "do a 360", "turn a full circle",
        "spin in a full circle", "make a complete rotation", "do one full rotation",
        "rotate 360 degrees", "do a complete circle", "spin a full 360", "turn 360 degrees",
        "make one full turn", "do a full spin", "spin in a complete circle"]


def around_clause(rng):
    return rng.choice(AROUND), [[T(180)], [T(-180)]]


def full_clause(rng):
    if rng.random() < 0.5:
        return rng.choice(FULL), [[T(360)], [T(-360)]]
    d, sign = rng.choice(LR + ROT)
    base = rng.choice(["do a full circle", "spin all the way around", "make a full rotation",
                       "do a full turn", "spin 360 degrees", "turn a full circle"])
    text = f"{base} {d}" if d not in ("left", "right") else f"{base} to the {d}"
    return text, one(T(sign * 360))


TURN_VERBS_SYN = ["rotate", "spin", "pivot", "swivel", "twist", "swing", "yaw", "rotate yourself",
                  "swing around", "turn yourself", "spin yourself", "swing round", "twirl"]


def turn_syn_clause(rng, angle_fn=angle_digits):
    r = rng.randint(0, 9)
    if r <= 3:
        verb = rng.choice(TURN_VERBS_SYN + ["turn"])
        d, sign = rng.choice(ROT)
        atext, a = angle_fn(rng)
        text = rng.choice([f"{verb} {d} {atext}", f"{verb} {atext} {d}", f"{verb} {d} by {atext}",
                           f"{verb} {atext} in a {d} direction"])
        return text, one(T(sign * a))
    if r <= 5:
        verb = rng.choice(TURN_VERBS_SYN)
        d, sign = rng.choice(LR)
        atext, a = angle_fn(rng)
        text = rng.choice([f"{verb} {d} {atext}", f"{verb} {atext} to the {d}",
                           f"{verb} to the {d} {atext}", f"{verb} {atext} to your {d}",
                           f"{verb} {d}ward {atext}", f"{verb} to the {d} by {atext}"])
        return text, one(T(sign * a))
    if r == 6:
        d, sign = rng.choice(LR)
        text = rng.choice([f"hang a {d}", f"take a {d}", f"make a {d}", f"make a {d} turn",
                           f"do a {d} turn", f"hook a {d}", f"swing {d}", f"pivot {d}",
                           f"face {d}", f"spin to the {d}", f"swivel to your {d}",
                           f"make a 90 degree turn to the {d}", f"pivot to your {d}",
                           f"take a {d} turn", f"go ahead and make a {d} turn"])
        return text, one(T(sign * 90))
    if r == 7:
        d, sign = rng.choice(LR + ROT)
        frac, a = rng.choice([("a quarter turn", 90), ("a quarter turn", 90),
                              ("a three quarter turn", 270), ("a three-quarter turn", 270)])
        where = f"to the {d}" if d in ("left", "right") else d
        text = rng.choice([f"make {frac} {where}", f"do {frac} {where}", f"{frac} {where}",
                           f"rotate {frac} {where}", f"spin {frac} {where}"])
        return text, one(T(sign * a))
    if r == 8:
        return around_clause(rng)
    return full_clause(rng)


def dur_phrase(rng):
    r = rng.randint(0, 5)
    if r <= 2:
        s = rng.randint(1, 30) if rng.random() < 0.85 else rng.randint(0, 29) + 0.5
        if s == 1:
            unit = rng.choice(["second", "sec"])
        else:
            unit = rng.choice(["seconds", "seconds", "seconds", "secs", "sec", "s"])
        return f"{digits(s)} {unit}", s
    if r == 3:
        s = rng.randint(2, 30)
        return f"{words(s, rng)} seconds", s
    return rng.choice([("a second", 1), ("one second", 1), ("half a second", 0.5),
                       ("a couple of seconds", 2), ("a couple seconds", 2),
                       ("half a minute", 30), ("a quarter of a minute", 15),
                       ("a quarter minute", 15), ("one and a half seconds", 1.5),
                       ("two and a half seconds", 2.5), ("a second and a half", 1.5),
                       ("thirty seconds", 30), ("a half minute", 30), ("ten seconds", 10),
                       ("a full ten seconds", 10), ("exactly five seconds", 5)])


WAIT_TEMPLATES = ["wait {d}", "wait for {d}", "pause for {d}", "pause {d}", "hold still for {d}",
                  "stay put for {d}", "sit tight for {d}", "hold on for {d}", "hang on for {d}",
                  "stand still for {d}", "stay still for {d}", "remain still for {d}",
                  "remain stationary for {d}", "hold your position for {d}", "don't move for {d}",
                  "do not move for {d}", "stay where you are for {d}", "stay here for {d}",
                  "rest for {d}", "idle for {d}", "chill for {d}", "wait here for {d}",
                  "hold for {d}", "stay there for {d}", "wait around for {d}",
                  "stay in place for {d}", "keep still for {d}", "hang tight for {d}",
                  "hold position for {d}", "stay motionless for {d}", "just wait {d}",
                  "give it {d} before you do anything"]


def wait_clause(rng):
    dtext, s = dur_phrase(rng)
    if isinstance(s, int) and rng.random() < 0.12 and dtext[:1].isdigit():
        text = rng.choice([f"take a {s} second break", f"take a {s}-second pause",
                           f"have a {s} second rest", f"do a {s} second wait"])
    else:
        text = rng.choice(WAIT_TEMPLATES).format(d=dtext)
    return text, one(W(s))


STATEMENTS = [
    "dinner is ready", "the meeting is starting", "the meeting starts in ten minutes",
    "lunch is ready", "the coffee is ready", "the package has arrived", "your taxi is here",
    "the delivery is here", "the door is open", "the door is locked", "the lab closes at five",
    "the printer is out of paper", "my battery is low", "I am going to charge", "I am on my way",
    "I have arrived", "I am back", "I am ready", "the floor is wet", "visiting hours are over",
    "the bus leaves at noon", "the store is closing soon", "the fire drill starts at three",
    "the elevator is out of order", "the guests have arrived", "the train is delayed",
    "the presentation will begin shortly", "the cake is in the oven",
    "the wifi password is on the fridge", "the library closes in fifteen minutes",
    "we are closing in five minutes", "it is raining outside", "the parking lot is full",
    "the tour starts here", "the results are in", "I need to recharge", "the room is ready",
    "breakfast is served", "the water is hot", "the hallway is blocked", "the mail has arrived",
    "the doctor will see you now", "it is time for a break", "the show starts at eight",
    "the pizza is here", "the laundry is done", "the boss is on the phone",
    "the demo is about to start", "class is over", "the test will start soon",
    "everyone should gather in the lobby", "the gate is closed", "today is Friday",
    "the movie starts in ten minutes", "the cafeteria is open", "the cookies are ready",
    "the bathroom is being cleaned", "the car is outside", "the kids are home",
    "the printer is working again", "the network is down", "the training starts at nine",
    "the delivery robot is coming through", "tea is served", "the lights will go off at ten",
]
UTTERANCES = [
    "hello", "hi", "hi there", "good morning", "good afternoon", "good evening", "good night",
    "goodbye", "bye bye", "see you later", "welcome", "welcome to the lab", "welcome home",
    "thank you", "thank you for visiting", "thanks for coming", "excuse me", "sorry",
    "pardon me", "happy birthday", "congratulations", "nice to meet you", "how are you",
    "I am a robot", "I am bora", "my name is bora", "beep beep", "coming through", "on my way",
    "make way please", "watch out", "please follow me", "this way please", "have a nice day",
    "enjoy your meal", "cheers", "hello world", "ready", "done", "mission complete",
    "task complete", "all clear", "testing one two three", "good job team", "well done everyone",
    "merry Christmas", "happy new year", "bon appetit", "how can I help you", "can I help you",
    "nice weather today", "ouch", "hooray", "yes", "no", "okay", "over here", "ta-da",
    "hello everyone", "welcome back", "thank you all", "good luck", "see you tomorrow",
    "sorry for the noise", "I am lost", "who wants coffee", "time for lunch", "safe travels",
]
IMPERATIVES = ["follow me", "wait here", "come this way", "take a seat", "mind the step",
               "keep the door closed", "sign in at the desk", "wear a badge", "be quiet",
               "keep left", "line up by the door", "gather in the lobby", "check the board",
               "grab a coffee", "wash their hands", "clean up the table", "leave the door open"]



SAY_VERBS = ["say", "say", "say", "say out loud", "say the words", "speak the words", "shout",
             "call out", "say:", "greet them with", "go ahead and say", "just say", "say aloud"]


def novel_say_clause(rng, pool, simple):
    p = novel_phrase(rng, pool, simple)
    verb = rng.choice(["say", "say", "shout", "announce"] if simple else SAY_VERBS)
    q = "" if simple else rng.choice(["", "", "", '"', "'"])
    return f"{verb} {q}{p}{q}", one(S(p))


def say_clause(rng, simple=False):
    """simple: no 'and'/'then' inside the text and a plain verb, for use inside sequences."""
    if rng.novel_say is not None and rng.random() < rng.novel_say[1]:
        return novel_say_clause(rng, rng.novel_say[0], simple)
    r = rng.randint(0, 9)
    if simple:
        pool = [p for p in UTTERANCES + STATEMENTS if " and " not in p and "then" not in p]
        p = rng.choice(pool)
        verb = rng.choice(["say", "say", "say", "announce", "tell them"] if p in STATEMENTS
                          else ["say", "say", "shout"])
        return f"{verb} {p}", one(S(p))
    if r <= 3:
        p = rng.choice(UTTERANCES)
        q = rng.choice(["", "", "", '"', "'"])
        pre = rng.choice(SAY_VERBS)
        return f"{pre} {q}{p}{q}", one(S(p))
    if r <= 7:
        p = rng.choice(STATEMENTS)
        pre, that = rng.choice([("say", False), ("tell them", False), ("tell everyone", False),
                                ("tell everybody", False), ("announce", False),
                                ("announce that", True), ("tell everyone that", True),
                                ("let them know", False), ("let everyone know", False),
                                ("let them know that", True), ("let the room know", False),
                                ("inform everyone that", True), ("say that", True),
                                ("announce:", False), ("make an announcement:", False),
                                ("tell the visitors", False), ("tell the guests that", True),
                                ("let people know", False), ("tell us", False),
                                ("broadcast that", True), ("tell whoever is there that", True)])
        alts = [[S(p)]] + ([[S("that " + p)]] if that else [])
        return f"{pre} {p}", alts
    if r == 8:
        imp = rng.choice(IMPERATIVES)
        who = rng.choice(["them", "the visitors", "the guests", "everyone", "the kids",
                          "the people in the hall", "the students"])
        text = f"tell {who} to {imp}"
        if "their" in imp:
            return text, [[S(imp.replace("their", "your"))], [S("please " + imp.replace("their", "your"))]]
        return text, [[S(imp)], [S("please " + imp)]]
    p = rng.choice(STATEMENTS)
    return f"say \"{cap_first(p)}.\"", one(S(cap_first(p) + "."))
