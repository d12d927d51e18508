//! The one error type of bora-models. Each variant says what was wrong with what
//! (file, tensor, metadata key) so the message a user sees tells them what to do.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be opened or read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid GGUF (wrong magic, version, truncated, corrupt).
    #[error("{path} is not a valid GGUF file: {reason}")]
    InvalidGguf {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A metadata key is missing or has the wrong type.
    #[error("{path}: metadata key `{key}` {reason}")]
    Metadata {
        /// The file at fault.
        path: PathBuf,
        /// The GGUF metadata key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tokenizer could not be built or used.
    #[error("tokenizer for {path}: {reason}")]
    Tokenizer {
        /// The model file (or tokenizer.json) the tokenizer comes from.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model file does not exist.
    #[error("model file {path} does not exist: run scripts/setup.sh to fetch the models, or pass the path of a GGUF file")]
    ModelFileMissing {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The file ends before a part of the GGUF that its header promises.
    #[error("{path} is truncated: {section} needs bytes up to offset {needed}, but the file has only {file_size} bytes; fetch it again (scripts/setup.sh)")]
    GgufTruncated {
        /// The file at fault.
        path: PathBuf,
        /// The part being read (header, metadata key, tensor info, tensor data of a named tensor).
        section: String,
        /// The byte offset the part needs the file to reach.
        needed: u64,
        /// The size of the file in bytes.
        file_size: u64,
    },
    /// The file does not start with the GGUF magic bytes.
    #[error("{path} is not a GGUF file: it starts with bytes {found:02x?}, expected \"GGUF\"")]
    GgufBadMagic {
        /// The file at fault.
        path: PathBuf,
        /// The first four bytes of the file.
        found: [u8; 4],
    },
    /// The GGUF version is not one this reader understands.
    #[error("{path}: GGUF version {version} is not supported (supported: 2, 3); convert the model with a current llama.cpp")]
    GgufUnsupportedVersion {
        /// The file at fault.
        path: PathBuf,
        /// The version number in the header.
        version: u32,
    },
    /// A tensor uses a ggml type id this build does not know.
    #[error("{path}: tensor `{tensor}` has unknown ggml quantization type id {type_id}; supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q8_K")]
    UnknownQuantType {
        /// The file at fault.
        path: PathBuf,
        /// The tensor name.
        tensor: String,
        /// The ggml type id found.
        type_id: u32,
    },
    /// A tensor's shape disagrees with the model metadata.
    #[error("{path}: tensor `{tensor}` has shape {found:?}, but the metadata implies {expected:?} (rows, columns)")]
    TensorShape {
        /// The file at fault.
        path: PathBuf,
        /// The tensor name.
        tensor: String,
        /// The shape the metadata implies (outermost first).
        expected: Vec<usize>,
        /// The shape in the file (outermost first).
        found: Vec<usize>,
    },
    /// A tensor the architecture needs is not in the file.
    #[error("{path}: tensor `{tensor}` is missing")]
    MissingTensor {
        /// The file at fault.
        path: PathBuf,
        /// The tensor name.
        tensor: String,
    },
    /// `general.architecture` names an architecture bora cannot run.
    #[error("{path}: architecture `{architecture}` is not supported (supported: {supported})")]
    UnsupportedArchitecture {
        /// The file at fault.
        path: PathBuf,
        /// The architecture named in the file.
        architecture: String,
        /// The supported architectures, comma separated.
        supported: String,
    },
    /// The requested compute device cannot be used.
    #[error("device `{device}` is unavailable: {reason}")]
    DeviceUnavailable {
        /// The device as requested (e.g. `cuda:0`).
        device: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The tokens would not fit in the configured context.
    #[error("context full: {needed} tokens needed, the model state holds {context}; shorten the prompt or configure a longer context")]
    ContextFull {
        /// The configured context length in tokens.
        context: usize,
        /// The number of tokens the operation needed.
        needed: usize,
    },
    /// A caller-supplied parameter is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidArgument {
        /// The parameter name.
        name: &'static str,
        /// The value given.
        value: String,
        /// The accepted range or form.
        reason: String,
    },
    /// A model name is neither a file nor a known name in the model cache.
    #[error("unknown model `{name}`: not a file, and not one of the known names ({known}) in {dir}; pass a path to a .gguf file, or run scripts/setup.sh to fetch the known models")]
    UnknownModel {
        /// The name or path the user gave.
        name: String,
        /// The model cache directory searched (`$BORA_MODELS` or `~/.cache/bora/models`).
        dir: PathBuf,
        /// The known model names, comma separated.
        known: String,
    },
    /// A known model name whose file is not in the model cache.
    #[error("model `{name}` is not in the model cache: {path} does not exist; run scripts/setup.sh to fetch it (or set BORA_MODELS to the directory that holds it)")]
    ModelNotCached {
        /// The known model name.
        name: String,
        /// Where the file was expected.
        path: PathBuf,
    },
    /// The adapter shipped for a model (see [`crate::registry::shipped_adapter`]) is in
    /// neither place it is looked for.
    #[error("the adapter `{name}` shipped for {model} is in neither {installed} nor {source_tree}; run scripts/setup.sh (it installs it), name an adapter directory with -p model.adapter:=DIR, or run the model as its file has it with -p model.adapter:=none")]
    AdapterNotFound {
        /// The shipped adapter's name.
        name: String,
        /// The model file it belongs to.
        model: String,
        /// Where setup installs it (`$BORA_MODELS/adapters/NAME`).
        installed: PathBuf,
        /// Where the source tree this binary was built from keeps it.
        source_tree: PathBuf,
    },
    /// The chat template in the GGUF metadata is not one bora can render.
    #[error("{path}: chat template not supported (bora renders ChatML and Gemma turns; starts with: {excerpt:?}); use a model with one of those templates")]
    UnknownChatTemplate {
        /// The model file.
        path: PathBuf,
        /// The first characters of the template (or a note that there is none).
        excerpt: String,
    },
    /// A JSON schema or Lark grammar could not be compiled into a token constraint.
    #[error("cannot build output constraint from {source_kind}: {reason}")]
    ConstraintGrammar {
        /// What the constraint was built from (`JSON schema` or `Lark grammar`).
        source_kind: &'static str,
        /// What llguidance reported.
        reason: String,
    },
    /// A constrained decoding step failed (a token outside the mask, or a parser error).
    #[error("constrained decoding failed at token {token:?}: {reason}")]
    ConstraintStep {
        /// The token being committed, if the failure came from a commit.
        token: Option<u32>,
        /// What llguidance reported.
        reason: String,
    },
    /// A CTranslate2 `model.bin` ends before a part its header promises.
    #[error("{path} is truncated: {section} needs bytes up to offset {needed}, but the file has only {file_size} bytes; fetch it again (scripts/setup.sh)")]
    Ct2Truncated {
        /// The file at fault.
        path: PathBuf,
        /// The part being read (header, the name, shape or data of a variable, aliases).
        section: String,
        /// The byte offset the part needs the file to reach.
        needed: u64,
        /// The size of the file in bytes.
        file_size: u64,
    },
    /// A CTranslate2 `model.bin` with a malformed field (a name without its NUL, not UTF-8).
    #[error("{path}: malformed CTranslate2 file at byte {offset}: {reason}")]
    Ct2Malformed {
        /// The file at fault.
        path: PathBuf,
        /// The byte offset of the field.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A CTranslate2 `model.bin` of a format version this reader does not know.
    #[error("{path}: CTranslate2 model format version {version} is not supported (supported: {supported}); convert the model with ctranslate2 4.x")]
    Ct2UnsupportedVersion {
        /// The file at fault.
        path: PathBuf,
        /// The version in the header.
        version: u32,
        /// The versions this reader reads.
        supported: &'static str,
    },
    /// A variable's stored type is unknown, or not the one bora needs for it.
    #[error("{path}: variable `{variable}` has dtype {found}, expected {expected}")]
    Ct2Dtype {
        /// The file at fault.
        path: PathBuf,
        /// The variable name.
        variable: String,
        /// The dtype found (a name, or `id N` when the id is unknown).
        found: String,
        /// The dtype(s) accepted.
        expected: String,
    },
    /// A model asked for a kernel thread count other than the one the process-wide
    /// pool already runs with (the pool is started once, by the first model loaded).
    #[error("threads = {requested}: this process's kernel pool already runs {running} threads (started by an earlier model); load every model with the same `threads`, or 0 to use the running pool")]
    ThreadsAlreadySet {
        /// The thread count asked for.
        requested: usize,
        /// The running pool's thread count.
        running: usize,
    },
    /// A variable's byte count disagrees with its shape and dtype, or its shape is absurd.
    #[error(
        "{path}: variable `{variable}` has shape {dims:?} and {bytes} bytes of data: {reason}"
    )]
    Ct2VariableSize {
        /// The file at fault.
        path: PathBuf,
        /// The variable name.
        variable: String,
        /// The stored shape, outermost first.
        dims: Vec<u64>,
        /// The stored byte count.
        bytes: u64,
        /// What is inconsistent.
        reason: String,
    },
    /// A variable in the file that the model mapping does not know: a different model
    /// layout (or a quantized variant) than the one bora reads.
    #[error("{path}: variable `{variable}` is not part of a {spec} bora can run (an int8 or newer layout?); use the float16/float32 CTranslate2 conversion")]
    Ct2UnknownVariable {
        /// The file at fault.
        path: PathBuf,
        /// The CTranslate2 spec name in the header.
        spec: String,
        /// The variable name.
        variable: String,
    },
    /// An alias in the file names a variable the file does not hold.
    #[error("{path}: alias `{alias}` points at `{target}`, which is not in the file")]
    Ct2BadAlias {
        /// The file at fault.
        path: PathBuf,
        /// The alias name.
        alias: String,
        /// The variable it points at.
        target: String,
    },
    /// A Whisper model directory is missing a file or holds an unusable one.
    #[error("Whisper model {path}: {reason}")]
    WhisperModel {
        /// The directory or file at fault.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A WAV file bora cannot read.
    #[error("{path}: {reason}")]
    Wav {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it (see [`WavProblem`](crate::whisper::wav::WavProblem)).
        reason: crate::whisper::wav::WavProblem,
    },
    /// An error from candle while running the model.
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result with bora-models' [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
