/*
 * drsn.h - C ABI of drsn, an inference runtime for Deep Residual Shrinkage Networks.
 *
 * Conventions (they hold for every function below):
 *  - Status: functions that can fail return drsn_status. DRSN_OK is 0 and will stay 0.
 *    On failure a message naming what went wrong is stored for the calling thread and
 *    can be read with drsn_last_error(). The functions that return a count, a name or a
 *    string instead (drsn_model_input_count, _output_count, _input_name, _output_name,
 *    _summary_json) report a failure (a NULL model, an index out of range) as 0 / NULL and
 *    store a message the same way. The version functions, drsn_isa, drsn_status_string and
 *    drsn_last_error cannot fail and never change the stored message.
 *  - Ownership: the caller owns every buffer it passes in; the library never keeps a
 *    pointer to caller memory after a call returns (load_memory copies what it needs).
 *    Objects created by drsn_*_create / drsn_model_load_* are owned by the caller and
 *    released with the matching destroy function. destroy(NULL) is a no-op.
 *  - Strings returned by the library are NUL-terminated UTF-8 and owned by the library.
 *    Model strings (input/output names) live as long as the model. drsn_last_error()
 *    lives until the next drsn_* call on the same thread. Version and status strings
 *    are static.
 *  - Thread safety: a drsn_model is immutable after loading. Every function that takes
 *    a `const drsn_model*` may be called from any number of threads at once, including
 *    drsn_model_run (each concurrent run uses its own scratch memory from an internal
 *    pool). drsn_model_destroy must not race with any other use of that model.
 *    A drsn_options object is not synchronised: do not modify it while another thread
 *    uses it. It is only read during the call it is passed to and may be destroyed
 *    right after.
 *  - Tensors: all runtime inputs and outputs are dense, row-major (C order) float32.
 *    Outputs of boolean type are written as 0.0f / 1.0f; outputs of integer type (e.g. a
 *    Shape result) are converted to float32 (drsn_model_output_dtype reports the graph's type). Shapes are int64 dimensions;
 *    in introspection a dynamic (symbolic) dimension is reported as -1.
 *  - Sizes: element counts, not bytes, unless a name says bytes.
 */
#ifndef DRSN_H
#define DRSN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(DRSN_BUILDING_LIBRARY)
#  define DRSN_API __declspec(dllexport)
#elif defined(_WIN32)
#  define DRSN_API __declspec(dllimport)
#else
#  define DRSN_API __attribute__((visibility("default")))
#endif

/* ---- Versions ------------------------------------------------------------------ */

#define DRSN_VERSION_MAJOR 0
#define DRSN_VERSION_MINOR 2
#define DRSN_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH. */
#define DRSN_VERSION_NUMBER (DRSN_VERSION_MAJOR * 10000 + DRSN_VERSION_MINOR * 100 + DRSN_VERSION_PATCH)
#define DRSN_VERSION_STRING "0.2.0"
/** Bumped only on an incompatible ABI change. Compare with drsn_abi_version() at run time. */
#define DRSN_ABI_VERSION 1

/** Run-time version number of the loaded library (same encoding as DRSN_VERSION_NUMBER). */
DRSN_API uint32_t drsn_version_number(void);
/** Run-time version string of the loaded library, e.g. "0.2.0". Static storage. */
DRSN_API const char* drsn_version_string(void);
/** ABI version of the loaded library. A program built with a different DRSN_ABI_VERSION must not use it. */
DRSN_API uint32_t drsn_abi_version(void);
/** Instruction set the compute kernels use in this process: "avx512" (x86-64-v4),
 *  "avx2" (x86-64-v3: AVX2 + FMA) or "baseline" (any x86-64; on other architectures always
 *  "baseline", the native ISA). Chosen once, at the first call into the kernels, from CPUID;
 *  the environment variable DRSN_FORCE_ISA=baseline|avx2|avx512 lowers it (for testing; a
 *  level the CPU lacks is ignored). Results agree across ISAs to float rounding. Static storage. */
DRSN_API const char* drsn_isa(void);

/* ---- Limits of the run functions ------------------------------------------------- */

/** Largest dimension a caller may pass: every dimension of a run-time input shape (and every
 *  window length) must be between 1 and DRSN_MAX_DIMENSION (2^31). A plain literal (no cast,
 *  no shift): Swift imports the library's copy of it from this header. */
#define DRSN_MAX_DIMENSION 2147483648
/** Windows per internal batch of drsn_model_run_windows when its batch_size is 0. */
#define DRSN_WINDOW_BATCH_DEFAULT 64
/** The z-score epsilon the bindings and the CLI pass to drsn_model_run_windows unless the
 *  caller chooses one: (x - mean) / (std + epsilon). */
#define DRSN_ZSCORE_EPSILON_DEFAULT 1e-8f
/** Largest thread count drsn_options_set_num_threads accepts. */
#define DRSN_MAX_THREADS 256

/* ---- Status and errors ----------------------------------------------------------- */

typedef enum drsn_status {
    DRSN_OK = 0,
    /** A NULL pointer, an out-of-range index, a negative count or an inconsistent argument. */
    DRSN_ERR_INVALID_ARGUMENT = 1,
    /** A file could not be opened or read (model file or external-data file). */
    DRSN_ERR_IO = 2,
    /** The bytes are not a well-formed ONNX model, the graph is inconsistent, or external tensor
     *  data cannot be used (absolute path, a path leaving the model's folder, or a model loaded
     *  from memory). */
    DRSN_ERR_INVALID_MODEL = 3,
    /** The model uses an operator, attribute value, data type or opset that drsn does not support. */
    DRSN_ERR_UNSUPPORTED = 4,
    /** An input's rank or dimensions do not fit the model (every run-time dimension must be
     *  between 1 and DRSN_MAX_DIMENSION, 2^31: zero-size tensors, such as an empty batch, are
     *  not supported), or shapes in the graph do not agree. */
    DRSN_ERR_SHAPE_MISMATCH = 5,
    /** An input or tensor has a data type other than the one expected. */
    DRSN_ERR_DTYPE_MISMATCH = 6,
    /** An output buffer is smaller than the output it must hold. */
    DRSN_ERR_BUFFER_TOO_SMALL = 7,
    /** Memory could not be allocated. */
    DRSN_ERR_OUT_OF_MEMORY = 8,
    /** The model asks for more than the configured resource limits allow. */
    DRSN_ERR_LIMIT_EXCEEDED = 9,
    /** A bug in drsn. Please report it with the message from drsn_last_error(). */
    DRSN_ERR_INTERNAL = 100
} drsn_status;

/** Static English name of a status, e.g. "DRSN_ERR_IO". Unknown values give "DRSN_ERR_UNKNOWN".
 *  The string has static storage (the same pointer on every call, valid until the process
 *  exits; never free it). This function does not touch drsn_last_error(): it may be called
 *  between a failing call and reading its message. Thread-safe. */
DRSN_API const char* drsn_status_string(drsn_status status);

/**
 * Message describing the last failure on the calling thread ("" if none yet). It names what
 * went wrong: the file, node, operator, input and expected versus actual shape where
 * they apply. Like errno, a successful call does not clear it: read it only right after a
 * call returned a status other than DRSN_OK. Valid until the next drsn_* call on this thread.
 * The message is kept in a per-thread buffer of 4096 bytes: a longer message (e.g. one
 * quoting a very long path) is cut to its first 4095 bytes. A thread that has had no
 * failure yet reads "". Never NULL.
 */
DRSN_API const char* drsn_last_error(void);

/* ---- Data types (values follow ONNX TensorProto.DataType) ------------------------- */

typedef enum drsn_dtype {
    DRSN_DTYPE_UNDEFINED = 0,
    DRSN_DTYPE_FLOAT32 = 1,
    DRSN_DTYPE_UINT8 = 2,
    DRSN_DTYPE_INT8 = 3,
    DRSN_DTYPE_INT32 = 6,
    DRSN_DTYPE_INT64 = 7,
    DRSN_DTYPE_BOOL = 9,
    DRSN_DTYPE_FLOAT16 = 10,
    DRSN_DTYPE_FLOAT64 = 11
} drsn_dtype;

/* ---- Options ----------------------------------------------------------------------- */

/** Load options. Opaque; create, set, pass to a load function, destroy. */
typedef struct drsn_options drsn_options;

/** Creates options with defaults (num_threads = 0: one thread per available CPU; every limit at
 *  its default below). */
DRSN_API drsn_status drsn_options_create(drsn_options** out_options);
/** Destroys options. NULL is a no-op. */
DRSN_API void drsn_options_destroy(drsn_options* options);
/**
 * Threads used by one run of a model loaded with these options, the calling thread included:
 * 0 = one per available CPU, 1 = the calling thread only (the worker pool is never used),
 * n > 1 = at most n. Range 0..DRSN_MAX_THREADS (256); other values give DRSN_ERR_INVALID_ARGUMENT and leave the
 * setting unchanged.
 * "Available CPUs" are the CPUs in the process's affinity mask (sched_getaffinity), counted
 * when the model is loaded: the count follows taskset and cpuset cgroups, counts each
 * hardware thread (SMT sibling) as a CPU, and does not see CPU-time quotas (e.g.
 * `docker --cpus`); set num_threads explicitly in such containers. A value above that count
 * is lowered to it at load, silently; the value a model uses is reported as "threads" by
 * drsn_model_summary_json. See "Threads and the worker pool" below for how runs use them.
 */
DRSN_API drsn_status drsn_options_set_num_threads(drsn_options* options, int32_t num_threads);
/** Reads back the thread setting as set (0 stays 0; the count a model resolves it to is
 *  reported by drsn_model_summary_json). */
DRSN_API drsn_status drsn_options_get_num_threads(const drsn_options* options, int32_t* out_num_threads);

/**
 * Resource limits on what a model file may ask for, so that a small hostile file cannot make
 * the library allocate gigabytes or work for minutes. Exceeding one fails the load (or the
 * run, for DRSN_LIMIT_MAX_VALUE_ELEMENTS and DRSN_LIMIT_MAX_ARENA_BYTES) with
 * DRSN_ERR_LIMIT_EXCEEDED.
 */
typedef enum drsn_limit {
    /** Largest model file / buffer in bytes. Default 2 GiB. */
    DRSN_LIMIT_MAX_FILE_BYTES = 1,
    /** Most elements in one stored tensor (initializer or attribute). Default 2^28. */
    DRSN_LIMIT_MAX_TENSOR_ELEMENTS = 2,
    /** Most bytes summed over all stored tensors. Default 4 GiB. */
    DRSN_LIMIT_MAX_TOTAL_TENSOR_BYTES = 3,
    /** Most nodes in the graph. Default 100000. */
    DRSN_LIMIT_MAX_NODES = 4,
    /** Most dimensions of any tensor or shape. Default 8. */
    DRSN_LIMIT_MAX_RANK = 5,
    /** Most elements of any tensor computed while running (inputs and constants computed at load included). Default 2^27.
     *  Also bounds the elements of all constants computed at load taken together, and the product of
     *  the nonzero dimensions of any shape. At the default, a small hostile file can still make a load
     *  use a small multiple of 2^27 * 4 bytes (0.5 GiB and more) for a second or two: lower it when
     *  loading untrusted models. */
    DRSN_LIMIT_MAX_VALUE_ELEMENTS = 6,
    /** Most bytes of working memory (the arena of its execution plan, see "Execution plans and
     *  memory" below) one run may need. Checked when a plan is built for new input shapes: by
     *  drsn_model_run, _run_windows, _run_introspect, _output_shape_for and _shrinkage_units
     *  (which then fail, and cache nothing), and at load when every input declares a shape
     *  (for dynamic dimensions set to 1 / 64 as below, on one thread: a lower bound of what a
     *  run needs). Default 4 GiB. */
    DRSN_LIMIT_MAX_ARENA_BYTES = 7
} drsn_limit;

/** Sets a limit; value must be >= 1. Unknown limits give DRSN_ERR_INVALID_ARGUMENT. */
DRSN_API drsn_status drsn_options_set_limit(drsn_options* options, drsn_limit limit, int64_t value);
/** Reads a limit's current value. */
DRSN_API drsn_status drsn_options_get_limit(const drsn_options* options, drsn_limit limit, int64_t* out_value);

/* ---- Threads and the worker pool ---------------------------------------------------- */
/*
 * All models in a process share one pool of worker threads for intra-op parallelism.
 *  - Start: the pool is created by the first run (drsn_model_run, _run_windows or
 *    _run_introspect) of any model whose plan splits a step across more than one thread.
 *    Loading, shape queries, drsn_model_shrinkage_units and the summary never start it, nor
 *    do runs of models with num_threads 1 (or of any model when the process may use only
 *    one CPU).
 *  - Size: one worker per CPU in the process's affinity mask at that moment, minus one
 *    (the run's calling thread is the other), at most 255 workers; fixed from then on.
 *    Worker i (i = 1, 2, ...) is pinned, best effort, to the CPU at position i of that mask
 *    counting from 0 (no worker on the first one), and has a 256 KiB stack. One run thus
 *    uses at most min(num_threads as resolved at load, workers + 1) threads: its calling
 *    thread and workers 1 .. threads-1.
 *  - Steps: a run gives each step that its plan splits into several tasks to the pool and
 *    works on it itself, as one of the threads; the other steps run on the calling thread.
 *  - Busy pool: the pool serves one step of one run at a time. When another run (of any
 *    model, on another thread) holds it, a run does not wait: it runs all tasks of that step
 *    on its own calling thread and tries the pool again at its next step. The tasks are the
 *    same either way, so the results are the same bit for bit; concurrent runs never use
 *    more threads than the pool's workers plus their own calling threads.
 *  - Idle and exit: after a step a worker spins for about 200 microseconds, then sleeps on a
 *    condition variable (an idle pool uses no CPU time). Workers are detached and never exit
 *    before the process does: destroying every model does not stop them, and there is no
 *    shutdown function.
 *  - Unloading: the library is linked non-unloadable (-z nodelete): dlclose() succeeds but
 *    leaves it mapped, with its pool, so a host may dlopen() / dlclose() it any number of
 *    times (a later dlopen() gets the same instance, its workers and settings; nothing
 *    piles up). Its memory is released only when the process exits.
 *
 * Execution plans and memory
 *  - A model runs through an execution plan bound to one tuple of concrete input shapes (in
 *    practice: one plan per batch size, or per window length for dynamic lengths). A plan is
 *    built by the first call that needs its shapes (drsn_model_run, _run_windows,
 *    _run_introspect, _output_shape_for, _shrinkage_units), which is therefore slower, and
 *    cached in the model. When every input declares a shape, loading also builds and caches
 *    one plan (for the summary): a dynamic first dimension set to 1, other dynamic ones to 64.
 *  - Each model caches at most 16 plans (fixed; not settable through this API). Adding a
 *    plan to a full cache drops the least recently used one (freed when no run still uses
 *    it); its shapes get a new plan if they come back. Threads that need the same new shapes
 *    at the same time may each build the plan; one of them is kept.
 *  - A cached plan holds its step list and value layout (metadata that grows with the node
 *    count) and the constants computed for its shapes while binding (counted against
 *    DRSN_LIMIT_MAX_VALUE_ELEMENTS). The model's weights, and the packed convolution weights
 *    (packed once per model and kernel layout, shared by all its plans), are not per plan,
 *    and neither is working memory.
 *  - Working memory: each run takes an arena of its plan's size ("arena_bytes_batch1" in
 *    the summary gives it for batch 1), at most DRSN_LIMIT_MAX_ARENA_BYTES. A model keeps the arenas of finished runs for reuse,
 *    at most as many as the most runs of it that were in flight at once; a run that finds
 *    none large enough frees one of them (if any) and allocates its own. drsn_model_destroy
 *    frees the plans and arenas; the worker pool stays.
 */

/* ---- Models ------------------------------------------------------------------------ */

/** A loaded, optimised model. Immutable and safe to share between threads. */
typedef struct drsn_model drsn_model;

/**
 * Loads an ONNX model from a file. External tensor data is read from files next to the
 * model: its location, with every symbolic link resolved (realpath), must be a file inside
 * the model's folder (the folder of utf8_path, itself resolved); an absolute location, a
 * `..` component or a link leading outside fails with DRSN_ERR_INVALID_MODEL naming the
 * location and where it leads, a missing file with DRSN_ERR_IO. `options` may be NULL for
 * defaults. On success *out_model receives a model to free with drsn_model_destroy;
 * on failure it is set to NULL.
 */
DRSN_API drsn_status drsn_model_load_file(const char* utf8_path, const drsn_options* options,
                                          drsn_model** out_model);

/**
 * Loads an ONNX model from `size` bytes in memory. The bytes are only read during the
 * call. A model loaded from memory cannot use external tensor data (DRSN_ERR_INVALID_MODEL).
 */
DRSN_API drsn_status drsn_model_load_memory(const void* data, size_t size, const drsn_options* options,
                                            drsn_model** out_model);

/** Destroys a model. NULL is a no-op. No run of this model may be in progress. */
DRSN_API void drsn_model_destroy(drsn_model* model);

/** Number of graph inputs (initializers excluded). If model is NULL: 0, and a message
 *  naming this function is stored for drsn_last_error(). */
DRSN_API size_t drsn_model_input_count(const drsn_model* model);
/** Number of graph outputs. If model is NULL: 0, and a message is stored for drsn_last_error(). */
DRSN_API size_t drsn_model_output_count(const drsn_model* model);
/** Name of input `index`; lives as long as the model. If model is NULL or index >= the input
 *  count: NULL, and a message naming this function is stored for drsn_last_error(). */
DRSN_API const char* drsn_model_input_name(const drsn_model* model, size_t index);
/** Name of output `index`; lives as long as the model. If model is NULL or index >= the
 *  output count: NULL, and a message is stored for drsn_last_error(). */
DRSN_API const char* drsn_model_output_name(const drsn_model* model, size_t index);
/** Element type of input `index` (always DRSN_DTYPE_FLOAT32: a model with another input type
 *  fails to load with DRSN_ERR_UNSUPPORTED). DRSN_ERR_INVALID_ARGUMENT if model or out_dtype
 *  is NULL or index is out of range; *out_dtype is then left unchanged. */
DRSN_API drsn_status drsn_model_input_dtype(const drsn_model* model, size_t index, drsn_dtype* out_dtype);
/** Element type of output `index` as the graph declares or infers it (the run still writes
 *  float32, see "Tensors" above). Errors as drsn_model_input_dtype. */
DRSN_API drsn_status drsn_model_output_dtype(const drsn_model* model, size_t index, drsn_dtype* out_dtype);

/**
 * Declared shape of input `index`: *out_rank receives the rank; the first min(rank, capacity)
 * dimensions are written to dims (-1 for a dynamic dimension). If capacity < rank the call
 * returns DRSN_ERR_BUFFER_TOO_SMALL with *out_rank set, so a caller may ask with capacity 0
 * first. dims may be NULL only when capacity is 0.
 */
DRSN_API drsn_status drsn_model_input_shape(const drsn_model* model, size_t index, int64_t* dims,
                                            size_t capacity, size_t* out_rank);
/**
 * Shape of output `index` as inferred at load time (-1 where it depends on a dynamic input
 * dimension). Same contract as drsn_model_input_shape. When the model declares no input
 * shapes, output shapes are unknown until inputs are given: the call fails with
 * DRSN_ERR_SHAPE_MISMATCH (use drsn_model_output_shape_for).
 */
DRSN_API drsn_status drsn_model_output_shape(const drsn_model* model, size_t index, int64_t* dims,
                                             size_t capacity, size_t* out_rank);

/**
 * Concrete shape of output `output_index` for the given concrete input shapes, without
 * running the model. `input_dims[i]` points to `input_ranks[i]` dimensions of input i;
 * `num_inputs` must equal drsn_model_input_count. Dims/capacity/out_rank as in
 * drsn_model_input_shape. Fails with DRSN_ERR_SHAPE_MISMATCH if the input shapes do not fit.
 */
DRSN_API drsn_status drsn_model_output_shape_for(const drsn_model* model, size_t num_inputs,
                                                 const int64_t* const* input_dims, const size_t* input_ranks,
                                                 size_t output_index, int64_t* dims, size_t capacity,
                                                 size_t* out_rank);

/**
 * Runs the model once.
 *  - input_dims[i] / input_ranks[i]: the concrete shape of input i (every dimension
 *    1..DRSN_MAX_DIMENSION, 2^31); num_inputs == input count.
 *  - inputs[i]: the num_elements(input i) float32 values of input i, C order, where
 *    num_elements is the product of input_dims[i][0 .. input_ranks[i]) (1 for rank 0); the
 *    run uses exactly that many. The function takes no input lengths, so the library cannot
 *    check a buffer's size: one holding fewer floats is read past its end (undefined
 *    behaviour); floats after the first num_elements do not affect the result. Inputs are
 *    only read and must be 4-byte aligned.
 *  - outputs[j]: caller-provided buffer of output_capacities[j] floats, 4-byte aligned;
 *    num_outputs == output count. Use drsn_model_output_shape_for to size them. A capacity
 *    below num_elements(output j) fails with DRSN_ERR_BUFFER_TOO_SMALL; a larger one is
 *    fine: the run writes the first num_elements(output j) floats and leaves the rest of
 *    the buffer untouched.
 * Buffers must not overlap. Inputs containing NaN or Inf are computed with IEEE arithmetic.
 * On failure the contents of the output buffers are unspecified.
 * Safe to call concurrently on the same model from several threads. The first run with new
 * input shapes builds their plan; the threads come from the shared worker pool (see
 * "Threads and the worker pool" above).
 */
DRSN_API drsn_status drsn_model_run(const drsn_model* model, size_t num_inputs, const float* const* inputs,
                                    const int64_t* const* input_dims, const size_t* input_ranks,
                                    size_t num_outputs, float* const* outputs,
                                    const size_t* output_capacities);

/**
 * A JSON object describing the model: producer, opset, inputs, outputs, operator counts as
 * loaded ("operators") and after the graph passes ("optimized_operators"), "parameters",
 * "flops_per_sample" (convolutions and matrix products, batch 1), "steps_per_run" and
 * "plan_steps" (kernel steps by kind after plan-level fusion, batch 1), "arena_bytes_batch1",
 * applied "passes" (graph passes and plan fusions), fused "shrinkage_units" and "threads".
 * Fields may be added; none will be removed within this ABI version. The string lives as
 * long as the model. If model is NULL: NULL, and a message is stored for drsn_last_error().
 */
DRSN_API const char* drsn_model_summary_json(const drsn_model* model);

/* ---- Long signals: sliding-window inference -------------------------------------- */

/** How each window is normalised before inference. */
typedef enum drsn_normalization {
    /** Windows are passed as cut. */
    DRSN_NORMALIZE_NONE = 0,
    /** Per window and channel: (x - mean) / (std + epsilon), population standard deviation. */
    DRSN_NORMALIZE_ZSCORE = 1
} drsn_normalization;

/** Number of full windows of `window` samples every `hop` samples in `length` samples (0 if length < window). */
DRSN_API drsn_status drsn_window_count(size_t length, size_t window, size_t hop, size_t* out_count);

/**
 * Classifies a long recording without the caller building the window matrix.
 *  - signal: `channels` x `length` floats, channel-major (channel c's samples are contiguous).
 *  - Windows start at 0, hop, 2*hop, ... and are `window` samples long (partial windows at the
 *    end are dropped); each is normalised as `normalization` says (epsilon: >= 0) and fed to the
 *    model's single input as [batch, channels, window] (or [batch, window] when the input has
 *    rank 2 and channels == 1), `batch_size` windows at a time (0 = DRSN_WINDOW_BATCH_DEFAULT, 64).
 *  - outputs[j] receives the model's output j for every window, in window order:
 *    window_count x (output j's elements per sample) floats; output_capacities[j] is its size.
 *  - *out_window_count (may be NULL) receives the number of windows.
 * The results equal running the normalised windows as one batch. Thread-safe like drsn_model_run.
 */
DRSN_API drsn_status drsn_model_run_windows(const drsn_model* model, const float* signal, size_t channels,
                                            size_t length, size_t window, size_t hop,
                                            drsn_normalization normalization, float epsilon, size_t batch_size,
                                            size_t num_outputs, float* const* outputs,
                                            const size_t* output_capacities, size_t* out_window_count);

/* ---- Live signals: streaming sliding-window inference ------------------------------ */
/*
 * A stream runs the windows of run_windows on a signal that arrives in chunks of any size
 * (an acquisition card's buffers, stdin): each push appends frames, and the outputs of every
 * window the frames complete come back from that push. The windows, their start samples and
 * their outputs are those drsn_model_run_windows gives on the whole signal pushed since the
 * stream was created (or reset), bit for bit, whatever the chunk sizes: each window and
 * channel is normalised by the same code, and a window's outputs do not depend on the batch
 * it runs in.
 *  - Frames: a frame is one sample of every channel. A push copies the frames that windows
 *    not yet returned need (from the start of the oldest one; with a hop larger than the
 *    window, the frames between windows are skipped) and keeps no pointer to them. The
 *    stream's buffer grows when a push needs more room than any before (a larger chunk, or
 *    windows left pending) and is freed by drsn_stream_destroy. Once warm, pushes allocate
 *    no memory: pushes no larger than earlier ones, after the batch sizes they run have
 *    each run once (the first run of a batch size builds its plan, see "Execution plans
 *    and memory"), without DRSN_STREAM_INTROSPECT.
 *  - Windows: window k starts at frame k * hop (the sample index a push reports for it) and
 *    is complete once frame k * hop + window - 1 has been pushed. The windows a push
 *    completes run together, in batches of batch_size windows or of powers of two below it
 *    (7 windows run as 4 + 2 + 1): a stream thus runs at most log2(batch_size) + 2 batch
 *    sizes, whatever its chunk sizes, and their execution plans stay cached.
 *  - Latency bound (max_waiting): with 0, every push runs the windows it completed before
 *    it returns. With max_waiting = w > 0, complete windows may wait, unrun, while at most w
 *    of them are complete, so that the windows of several small pushes share one larger
 *    batch: a window's output is delayed by at most w windows (w * hop frames). The push
 *    that completes window w + 1 runs all of them. drsn_stream_flush runs the waiting
 *    windows regardless.
 *  - Room: a push writes at most `capacity` windows (room for that many in every output
 *    buffer). When more are ready, the first `capacity` are written and the rest stay in the
 *    stream, pending: the push returns DRSN_ERR_BUFFER_TOO_SMALL with *out_windows (the
 *    windows written, valid) and *out_pending (those left) set, and its frames consumed.
 *    Nothing is lost: the next push or flush returns the pending windows first, in order.
 *    drsn_stream_windows_ready tells the room a push needs beforehand.
 *  - Bad input: a NULL buffer, a wrong channel count, an unknown layout or output count fails
 *    with DRSN_ERR_INVALID_ARGUMENT / DRSN_ERR_SHAPE_MISMATCH before anything is consumed:
 *    the stream is as before and may be used on. Samples that are NaN or Inf are computed
 *    with IEEE arithmetic (as in drsn_model_run): they give NaN outputs for the windows that
 *    hold them, and windows after them are not affected.
 *  - Threads: a stream is used by one thread at a time (no call on it may overlap another).
 *    Any number of streams, on any threads, may share one model.
 *  - The stream holds a reference to its model: drsn_model_destroy may be called while
 *    streams of the model exist; the model is freed with the last of them.
 */

/** A live signal's sliding-window state over a model. Opaque; create, push, destroy. */
typedef struct drsn_stream drsn_stream;

/** How the frames of a chunk are laid out (`samples` of drsn_stream_push, `channels` x `frames` floats). */
typedef enum drsn_layout {
    /** Channel by channel: channel c's samples are contiguous, sample (frame f, channel c) at
     *  samples[c * frames + f]. The layout of drsn_model_run_windows' signal. */
    DRSN_LAYOUT_PLANAR = 0,
    /** Frame by frame, as acquisition cards and PCM deliver them: sample (f, c) at
     *  samples[f * channels + c]. */
    DRSN_LAYOUT_INTERLEAVED = 1
} drsn_layout;

/** Flag of drsn_stream_create: pushes also report, per window, each shrinkage unit's
 *  thresholds tau and zeroed fraction (as drsn_model_run_introspect). Such pushes allocate
 *  memory per batch. */
#define DRSN_STREAM_INTROSPECT 1u

/**
 * Creates a stream over `model` for a signal of `channels` channels, cut into windows of
 * `window` frames every `hop` frames and normalised as `normalization` says (epsilon >= 0):
 * the options of drsn_model_run_windows, which the model must accept (one input [N, C, W],
 * or [N, W] with one channel; checked here: DRSN_ERR_SHAPE_MISMATCH when the model does not
 * take such windows). `batch_size` is the most windows one run takes (0 =
 * DRSN_WINDOW_BATCH_DEFAULT, at most 2^20), `max_waiting` the latency bound above (0 = none;
 * at most 2^20); `flags` is 0 or DRSN_STREAM_INTROSPECT. On success *out_stream receives a
 * stream to free with drsn_stream_destroy; on failure NULL.
 */
DRSN_API drsn_status drsn_stream_create(const drsn_model* model, size_t channels, size_t window, size_t hop,
                                        drsn_normalization normalization, float epsilon, size_t batch_size,
                                        size_t max_waiting, uint32_t flags, drsn_stream** out_stream);

/** Destroys a stream (its pending windows are dropped). NULL is a no-op. */
DRSN_API void drsn_stream_destroy(drsn_stream* stream);

/** Forgets every frame and window of the stream: the next frame pushed is frame 0 again.
 *  The stream keeps its buffers. DRSN_ERR_INVALID_ARGUMENT if stream is NULL. */
DRSN_API drsn_status drsn_stream_reset(drsn_stream* stream);

/** Floats of output `output_index` per window (the output's shape for one window without the
 *  batch dimension): output buffers of a push hold capacity times this. */
DRSN_API drsn_status drsn_stream_output_elements(const drsn_stream* stream, size_t output_index,
                                                 size_t* out_elements);

/** *out_windows receives how many windows would be complete and not yet returned after
 *  `frames` more frames: the room a push of `frames` frames (or a flush, with 0) needs at
 *  most. */
DRSN_API drsn_status drsn_stream_windows_ready(const drsn_stream* stream, size_t frames, size_t* out_windows);

/**
 * Appends `frames` frames of `channels` channels (must equal the stream's) at `samples`, laid
 * out as `layout`, and returns the windows that are ready (see above) in window order:
 *  - outputs[j] (num_outputs == the model's output count) receives output j of window i at
 *    outputs[j] + i * drsn_stream_output_elements(j), for i < *out_windows; room for
 *    `capacity` windows; 4-byte aligned;
 *  - starts (may be NULL) receives window i's first frame index (frames since creation or
 *    reset), for i < *out_windows;
 *  - with DRSN_STREAM_INTROSPECT: num_units == the unit count drsn_model_shrinkage_units
 *    reports for one window ([1, channels, window]); thresholds[u] receives window i's T_u
 *    thresholds at + i * T_u, zero_fractions[u] its zeroed fraction at + i (room for
 *    `capacity` windows). Without the flag num_units must be 0 (the arrays may be NULL);
 *  - *out_windows receives the number of windows written, *out_pending the complete windows
 *    left in the stream (waiting for a batch under max_waiting, or for room). Both may be NULL.
 * `frames` may be 0 (samples may then be NULL): the call returns pending windows. The output
 * arrays may be NULL when capacity is 0. Returns DRSN_OK, or DRSN_ERR_BUFFER_TOO_SMALL
 * when ready windows did not fit (the frames are consumed and the written windows valid; see
 * "Room" above). If a run fails (out of memory, a resource limit) the windows stay pending and
 * the error is returned; the frames are consumed.
 */
DRSN_API drsn_status drsn_stream_push(drsn_stream* stream, const float* samples, size_t channels, size_t frames,
                                      drsn_layout layout, size_t capacity, size_t num_outputs,
                                      float* const* outputs, int64_t* starts, size_t num_units,
                                      float* const* thresholds, float* const* zero_fractions,
                                      size_t* out_windows, size_t* out_pending);

/**
 * Returns every complete window still in the stream (waiting under max_waiting, or pending
 * for room), with the arguments and results of drsn_stream_push. The frames of a window not
 * yet complete stay: the stream goes on, and a later push completes that window (partial
 * windows are never run, as in drsn_model_run_windows).
 */
DRSN_API drsn_status drsn_stream_flush(drsn_stream* stream, size_t capacity, size_t num_outputs,
                                       float* const* outputs, int64_t* starts, size_t num_units,
                                       float* const* thresholds, float* const* zero_fractions,
                                       size_t* out_windows, size_t* out_pending);

/* ---- Threshold introspection ------------------------------------------------------ */

/**
 * The residual shrinkage units drsn recognised (and fused) in the model, for the given input
 * shapes (same arguments as drsn_model_output_shape_for). *out_count receives the number of
 * units; for unit u < capacity, thresholds_per_sample[u] receives how many thresholds tau the
 * unit learns per sample (its channel count for channel-wise units, 1 for channel-shared
 * ones) and features_per_sample[u] the number of features (channels x positions) it
 * thresholds per sample. Both arrays may be NULL when capacity is 0; if capacity < count the
 * call returns DRSN_ERR_BUFFER_TOO_SMALL with *out_count set. Units are listed in graph order.
 * A model whose soft thresholding drsn does not recognise has 0 units.
 */
DRSN_API drsn_status drsn_model_shrinkage_units(const drsn_model* model, size_t num_inputs,
                                                const int64_t* const* input_dims, const size_t* input_ranks,
                                                size_t* out_count, size_t* thresholds_per_sample,
                                                size_t* features_per_sample, size_t capacity);

/**
 * Runs like drsn_model_run and also reports, for each shrinkage unit u and sample n:
 *  - thresholds[u][n * T_u + t]: the learned threshold tau (T_u = thresholds_per_sample[u]);
 *  - zero_fractions[u][n]: the fraction of the unit's features that soft thresholding set to
 *    zero (|x| <= tau).
 * num_units must equal the unit count for these shapes; threshold_capacities[u] >= batch * T_u
 * and zero_fraction_capacities[u] >= batch. Allocates per call: meant for analysis, not for
 * the latency-critical path.
 */
DRSN_API drsn_status drsn_model_run_introspect(const drsn_model* model, size_t num_inputs, const float* const* inputs,
                                               const int64_t* const* input_dims, const size_t* input_ranks,
                                               size_t num_outputs, float* const* outputs,
                                               const size_t* output_capacities, size_t num_units,
                                               float* const* thresholds, const size_t* threshold_capacities,
                                               float* const* zero_fractions, const size_t* zero_fraction_capacities);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DRSN_H */
