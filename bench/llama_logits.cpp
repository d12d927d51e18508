// llama.cpp's logits along a given continuation (teacher forcing): the prompt in one
// batch, then each continuation token in turn; what bench/logits-vs-llama.sh compares
// bora's logits against.
//
// usage: llama-logits MODEL PROMPT CONTINUATION OUT.bin MAX_TOKENS
//   PROMPT is tokenized with special tokens parsed and BOS as the model asks (as
//   llama-simple does); CONTINUATION without either. OUT.bin: i32 n_prompt, i32 n (tokens
//   of the continuation, at most MAX_TOKENS), i32 n_vocab, n i32 token ids, then n rows
//   of n_vocab f32: row i = the logits that predict continuation token i.
// F32KV=1 in the environment: f32 KV cache and no flash attention instead of llama.cpp's
// defaults (f16 KV), to measure how far llama.cpp moves from itself.
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <cstdlib>
static void set_tokens(llama_batch_ext * b, const llama_token * t, int n, llama_pos p0) {
    llama_batch_ext_clear(b);
    for (int i = 0; i < n; ++i) { int idx = llama_batch_ext_add_token(b, 0, t[i]); llama_pos p = p0 + i; llama_batch_ext_set_pos(b, idx, &p); }
    llama_batch_ext_set_output_logits(b, n - 1, true);
}
int main(int argc, char ** argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s MODEL PROMPT CONTINUATION OUT.bin MAX_TOKENS\n", argv[0]); return 2; }
    std::string mp = argv[1], prompt = argv[2], cont = argv[3]; const char * out = argv[4]; int ncont = atoi(argv[5]);
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    auto mparams = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(mp.c_str(), mparams);
    if (!model) { fprintf(stderr, "cannot load %s\n", mp.c_str()); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    int np = -llama_tokenize(vocab, prompt.c_str(), prompt.size(), NULL, 0, true, true);
    std::vector<llama_token> pt(np); llama_tokenize(vocab, prompt.c_str(), prompt.size(), pt.data(), np, true, true);
    int nc = -llama_tokenize(vocab, cont.c_str(), cont.size(), NULL, 0, false, false);
    std::vector<llama_token> ct(nc); llama_tokenize(vocab, cont.c_str(), cont.size(), ct.data(), nc, false, false);
    if (nc > ncont) nc = ncont;
    auto cparams = llama_context_default_params(); cparams.n_ctx = np + nc + 1; cparams.n_batch = np; cparams.n_ubatch = np; if (getenv("F32KV")) { cparams.type_k = GGML_TYPE_F32; cparams.type_v = GGML_TYPE_F32; cparams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; }
    llama_context * ctx = llama_init_from_model(model, cparams);
    int nv = llama_vocab_n_tokens(vocab);
    FILE * f = fopen(out, "wb");
    if (!f) { fprintf(stderr, "cannot write %s\n", out); return 1; } int hdr[3] = {np, nc, nv}; fwrite(hdr, 4, 3, f); fwrite(ct.data(), 4, nc, f);
    llama_batch_ext * b = llama_batch_ext_init(ctx);
    set_tokens(b, pt.data(), np, 0);
    int pos = np;
    for (int i = 0; i < nc; ++i) {
        if (llama_process(ctx, LLAMA_PROCESS_TYPE_DECODE, b)) { fprintf(stderr, "decode failed\n"); return 1; }
        fwrite(llama_get_logits_ith(ctx, -1), 4, nv, f);
        set_tokens(b, &ct[i], 1, pos); pos++;
    }
    fclose(f);
    return 0;
}
