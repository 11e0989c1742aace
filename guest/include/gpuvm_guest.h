/*
 * libgpuvm-guest runtime API: a compact compute API in the spirit of the
 * CUDA driver API, on top of gpuvm's own NVC0 driver.
 *
 *   device   one GPU reached through a transport (gpuvm_transport.h); shared
 *            by every context of the process that opens the same GPU
 *   context  one channel and one GPU address space; contexts never see each
 *            other's memory
 *   memory   device allocations, named by their GPU virtual address
 *   module   gpusim ISA code (include/gpusim_isa.h) loaded into a context
 *
 * Every function returns GPUVM_OK (0) or a GPUVM_ERR_* code and leaves a
 * message for gpuvm_last_error().  Nothing aborts.  A context is used by one
 * thread at a time; different contexts may be used from different threads.
 * After a GPU fault in a context, every call on it but gpuvm_ctx_destroy()
 * returns GPUVM_ERR_FAULTED (the error is sticky, as in CUDA); other contexts
 * keep working.
 */
#ifndef GPUVM_GUEST_H
#define GPUVM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Errors ----------------------------------------------------------------- */
enum gpuvm_error {
	GPUVM_OK = 0,
	GPUVM_ERR_INVALID,        /* bad argument */
	GPUVM_ERR_BAD_HANDLE,     /* unknown or destroyed context, pointer or module */
	GPUVM_ERR_NO_HOST_MEMORY, /* host allocation failed */
	GPUVM_ERR_NO_VRAM,        /* out of device memory */
	GPUVM_ERR_NO_RESOURCE,    /* out of channels, BAR space or GPU address space */
	GPUVM_ERR_NO_DEVICE,      /* the transport could not be opened */
	GPUVM_ERR_UNSUPPORTED,    /* transport kind not built, or not supported */
	GPUVM_ERR_BUSY,           /* the device is already open with another configuration */
	GPUVM_ERR_DEVICE,         /* the GPU did not behave as an NVC0 should */
	GPUVM_ERR_FAULTED,        /* the context's channel was stopped by a GPU fault */
	GPUVM_ERR_TIMEOUT,        /* the GPU did not finish in time */
	GPUVM_ERR_VERIFY,         /* a workload's result did not match the host's */
	GPUVM_ERR_COUNT_
};

/* Short constant description of a code. */
const char *gpuvm_strerror(int err);
/* Message of the last failure in this thread (never NULL; "" before any). */
const char *gpuvm_last_error(void);

/* ---- Per-phase timing ----------------------------------------------------------
 * A context can add the wall time of its calls to a caller-owned record, so
 * that benchmarks can report overheads per phase.  The record outlives the
 * context, so the close phase is recorded too.
 */
enum gpuvm_phase {
	GPUVM_PHASE_INIT,         /* context create (and device bring-up) */
	GPUVM_PHASE_ALLOC,        /* mem alloc/free, module load/unload */
	GPUVM_PHASE_HTOD,
	GPUVM_PHASE_LAUNCH_SYNC,  /* launch, device-to-device copy, synchronise */
	GPUVM_PHASE_DTOH,
	GPUVM_PHASE_CLOSE,        /* context destroy */
	GPUVM_PHASE_COUNT
};

struct gpuvm_timing {
	uint64_t ns[GPUVM_PHASE_COUNT];
	uint64_t calls[GPUVM_PHASE_COUNT];
};

const char *gpuvm_phase_name(enum gpuvm_phase p);

/* ---- Devices ------------------------------------------------------------------ */
struct gpuvm_device;

/*
 * Open a device from a transport spec (NULL: $GPUVM_DEVICE, else "native").
 * Opening the same GPU again in this process returns the same device with
 * one more reference.  Opening does not touch the GPU; the driver brings it
 * up when the first context is created.
 */
int gpuvm_device_open(const char *spec, struct gpuvm_device **out);
void gpuvm_device_close(struct gpuvm_device *dev);

struct gpuvm_device_info {
	uint32_t boot0;
	uint64_t vram_size;       /* from 0x022438 x 0x10f20c MiB */
	uint64_t vram_free;       /* bytes not allocated by the driver (0 before bring-up) */
	uint64_t bar1_size, bar3_size;
	unsigned channels;        /* contexts open on the device */
	const char *transport;    /* "native", "local", ... */
};

int gpuvm_device_info(struct gpuvm_device *dev, struct gpuvm_device_info *info);

/* ---- Contexts ------------------------------------------------------------------- */
struct gpuvm_ctx;

/* How host<->device copies travel. */
enum gpuvm_copy_path {
	GPUVM_COPY_AUTO = 0,  /* BAR1 up to bar1_copy_max bytes, M2MF beyond */
	GPUVM_COPY_BAR1,      /* CPU through the buffer's BAR1 mapping */
	GPUVM_COPY_M2MF,      /* CPU into a BAR1 staging buffer, M2MF to the buffer */
};

struct gpuvm_ctx_options {
	struct gpuvm_timing *timing;   /* NULL: no timing */
	unsigned timeout_ms;           /* waits; 0: $GPUVM_TIMEOUT_MS, else 60000 */
	enum gpuvm_copy_path copy_path;
	size_t bar1_copy_max;          /* AUTO threshold; 0: 64 KiB */
	bool no_zero_fill;             /* skip clearing new allocations (default: cleared) */
};

/* opts may be NULL for defaults.  The context holds a reference on dev. */
int gpuvm_ctx_create(struct gpuvm_device *dev, const struct gpuvm_ctx_options *opts,
		     struct gpuvm_ctx **out);
/* Open the device named by spec and create a context on it. */
int gpuvm_ctx_open(const char *spec, const struct gpuvm_ctx_options *opts,
		   struct gpuvm_ctx **out);
/* Waits for outstanding work (bounded), frees everything.  Always frees. */
int gpuvm_ctx_destroy(struct gpuvm_ctx *ctx);

struct gpuvm_device *gpuvm_ctx_device(struct gpuvm_ctx *ctx);
/* Channel id of the context (for tests and tools). */
int gpuvm_ctx_channel(struct gpuvm_ctx *ctx);
int gpuvm_ctx_set_copy_path(struct gpuvm_ctx *ctx, enum gpuvm_copy_path path);
int gpuvm_ctx_set_timeout(struct gpuvm_ctx *ctx, unsigned timeout_ms);

/* ---- Memory ------------------------------------------------------------------------ */
typedef uint64_t gpuvm_devptr;    /* a GPU virtual address in a context */

int gpuvm_mem_alloc(struct gpuvm_ctx *ctx, size_t size, gpuvm_devptr *out);
int gpuvm_mem_free(struct gpuvm_ctx *ctx, gpuvm_devptr ptr);

/*
 * Copies.  Each range must lie inside one allocation of ctx.  HtoD and DtoH
 * are ordered after earlier work of the context and return when the copy is
 * complete; DtoD is queued (M2MF) and completes by gpuvm_ctx_synchronize().
 */
int gpuvm_memcpy_htod(struct gpuvm_ctx *ctx, gpuvm_devptr dst, const void *src, size_t n);
int gpuvm_memcpy_dtoh(struct gpuvm_ctx *ctx, void *dst, gpuvm_devptr src, size_t n);
int gpuvm_memcpy_dtod(struct gpuvm_ctx *ctx, gpuvm_devptr dst, gpuvm_devptr src, size_t n);

/* ---- Modules and launches ----------------------------------------------------------- */
struct gpuvm_module;

/* Load n instruction words (from the assembler in include/gpusim_isa.h). */
int gpuvm_module_load(struct gpuvm_ctx *ctx, const uint64_t *code, size_t n,
		      struct gpuvm_module **out);
int gpuvm_module_unload(struct gpuvm_module *mod);

struct gpuvm_dim3 {
	uint32_t x, y, z;
};

#define GPUVM_PARAM_BANK      0       /* parameters: constant bank 0 ... */
#define GPUVM_PARAM_MAX_BYTES 4096    /* ... from offset 0, at most this many bytes */

struct gpuvm_launch {
	uint32_t entry;             /* instruction index of the entry point */
	struct gpuvm_dim3 grid;     /* blocks; 0 in a dimension counts as 1 */
	struct gpuvm_dim3 block;    /* threads per block; 0 counts as 1 */
	uint32_t shared_bytes;
	const void *params;         /* copied into constant bank 0 at offset 0 */
	size_t param_bytes;         /* multiple of 4, <= GPUVM_PARAM_MAX_BYTES */
};

/* Queue a launch; it completes by gpuvm_ctx_synchronize(). */
int gpuvm_launch(struct gpuvm_module *mod, const struct gpuvm_launch *l);
/* Wait for every queued operation; reports faults and timeouts. */
int gpuvm_ctx_synchronize(struct gpuvm_ctx *ctx);

#endif
