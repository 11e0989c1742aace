/*
 * Helpers for the libgpuvm-guest tests: a small native device, kernels
 * built with the gpusim assembler, and page-table walks through raw VRAM
 * access.  Every wait in the library is bounded, so a broken driver or
 * model fails a test instead of hanging it.
 */
#ifndef TESTS_GUEST_UTIL_H
#define TESTS_GUEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpusim.h"
#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_transport.h"

/* Small VRAM keeps the tests fast; every test program uses the same size. */
#define TG_SPEC        "native:vram=128M"
#define TG_VRAM        (128ull << 20)
#define TG_TIMEOUT_MS  10000u

/* Assert GPUVM_OK, printing the library's message otherwise. */
#define TG_OK(expr) tg_check_ok((expr), #expr, __FILE__, __LINE__)
void tg_check_ok(int err, const char *what, const char *file, int line);

/* A context on TG_SPEC with a bounded timeout. */
struct gpuvm_ctx *tg_ctx(void);
struct gpuvm_ctx *tg_ctx_opts(const struct gpuvm_ctx_options *opts);
struct gpusim *tg_sim(struct gpuvm_ctx *ctx);

/* Kernels.  Each returns a loaded module. */
/* out[i] = in[i] * mul + add for i < n; params {in, out, n, mul, add}. */
struct gpuvm_module *tg_scale_kernel(struct gpuvm_ctx *ctx);
struct tg_scale_params {
	uint64_t in, out;
	uint32_t n, mul, add, pad;
};
int tg_scale(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, gpuvm_devptr in,
	     gpuvm_devptr out, uint32_t n, uint32_t mul, uint32_t add);
/* Stores 1 at the 64-bit address in params {addr}. */
struct gpuvm_module *tg_store_kernel(struct gpuvm_ctx *ctx);
int tg_store(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, uint64_t va);
/* An undecodable instruction. */
struct gpuvm_module *tg_bad_insn_kernel(struct gpuvm_ctx *ctx);

/* The PTE that maps va in the context's page directory (0 when absent). */
uint64_t tg_pte(struct gpuvm_ctx *ctx, uint64_t va, bool large);
/* Deterministic bytes. */
void tg_fill(void *buf, size_t n, uint32_t seed);

#endif
