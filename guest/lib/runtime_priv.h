/*
 * Runtime objects (runtime.c, runtime_memcpy.c, runtime_module.c, raw.c):
 * a context owns one channel, one address space and the allocations and
 * modules made in it.
 */
#ifndef GPUVM_RUNTIME_PRIV_H
#define GPUVM_RUNTIME_PRIV_H

#include "nvc0_driver.h"

#define GPUVM_CTX_MAGIC     0x43545847u   /* "GXTC" */
#define GPUVM_MOD_MAGIC     0x444f4d47u   /* "GMOD" */
#define GPUVM_VA_BASE       (256ull << 20) /* nothing below: null pointers fault */
#define GPUVM_STAGING_SIZE  (1u << 20)
#define GPUVM_DEFAULT_TIMEOUT_MS 60000u
#define GPUVM_DEFAULT_BAR1_COPY_MAX (64u << 10)

struct gpuvm_alloc {
	struct gpuvm_alloc *next;
	struct nvc0_bo bo;
	uint64_t size;              /* as requested */
	bool fill_pending;          /* its zero fill is not in the channel yet (runtime.c) */
};

struct gpuvm_module {
	uint32_t magic;
	struct gpuvm_module *next;
	struct gpuvm_ctx *ctx;
	struct nvc0_bo bo;
	uint32_t insns;
};

struct gpuvm_ctx {
	uint32_t magic;
	struct gpuvm_device *dev;
	struct gpuvm_ctx_options opts;
	struct nvc0_vm vm;
	struct nvc0_channel chan;
	struct nvc0_bo params;          /* constant buffer for launch parameters */
	struct nvc0_bo zero;            /* a zero page: source of fills */
	bool zero_written;              /* zeros written into it (at the first fill) */
	struct nvc0_bo staging[2];      /* BAR1 bounce buffers for M2MF copies */
	uint32_t staging_seq[2];        /* fence after which each may be reused */
	struct gpuvm_alloc *allocs;
	struct gpuvm_module *modules;
};

/* GPUVM_OK, or BAD_HANDLE / the context's sticky fault. */
int gpuvm_ctx_check(struct gpuvm_ctx *ctx);
/* The allocation holding [ptr, ptr + n), or NULL (message recorded). */
struct gpuvm_alloc *gpuvm_ctx_find(struct gpuvm_ctx *ctx, gpuvm_devptr ptr, uint64_t n);

/*
 * Zero fills are emitted lazily: before GPU work that may touch an
 * allocation (a launch or a device-to-device copy), or before the CPU
 * touches it (raw access, a partial host-to-device copy).  A host-to-device
 * copy that writes every byte makes the fill unnecessary, and a
 * device-to-host copy of a never-touched allocation reads zeros.
 */
int gpuvm_alloc_fill(struct gpuvm_ctx *ctx, struct gpuvm_alloc *a);
int gpuvm_allocs_fill(struct gpuvm_ctx *ctx);

/* Timing: add the time since t0 to phase p of the context's record. */
void gpuvm_phase_add(struct gpuvm_timing *t, enum gpuvm_phase p, uint64_t t0);

/* Copies into and out of a buffer object (runtime_memcpy.c). */
int gpuvm_copy_to_bo(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t off,
		     const void *src, uint64_t n);
int gpuvm_copy_from_bo(struct gpuvm_ctx *ctx, void *dst, struct nvc0_bo *bo, uint64_t off,
		       uint64_t n);
void gpuvm_staging_free(struct gpuvm_ctx *ctx);

void gpuvm_modules_free(struct gpuvm_ctx *ctx);

#endif
