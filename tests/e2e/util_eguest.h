/*
 * Guest-side helpers for the end-to-end tests, used inside forked guests
 * (never in the test process itself, which stays single-threaded and free
 * of device state so that it can fork): contexts on the guest's vGPU,
 * small kernels, and raw page-table surgery through the guest library's
 * raw API (registers and PRAMIN, exactly what a hostile driver could do).
 * A failure ends the guest with exit status 1 and a message on stderr.
 */
#ifndef TESTS_E2E_EGUEST_H
#define TESTS_E2E_EGUEST_H

#include <stdint.h>

#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_workloads.h"
#include "util_e2e.h"

#define EG_OK(io, expr) \
	do { \
		int eg_err_ = (expr); \
		if (eg_err_ != GPUVM_OK) \
			e2e_die((io), __FILE__, __LINE__, "%s: %s (%s)", #expr, \
				gpuvm_strerror(eg_err_), gpuvm_last_error()); \
	} while (0)

/* A context on the guest's vGPU (io->spec) with a generous wait bound. */
struct gpuvm_ctx *eg_ctx(struct e2e_io *io);
struct gpuvm_device *eg_dev(struct gpuvm_ctx *ctx);

/* 32/64-bit VRAM words through PRAMIN. */
uint32_t eg_rd32(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr);
uint64_t eg_rd64(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr);
void eg_wr64(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr, uint64_t val);

/* Where the PTE that maps va lives in VRAM (small page if mapped so, else large). */
uint64_t eg_pte_addr(struct e2e_io *io, struct gpuvm_ctx *ctx, uint64_t va);
/* Wait for the context's queued work, overwrite that PTE, then flush its TLB as a driver would. */
void eg_set_pte(struct e2e_io *io, struct gpuvm_ctx *ctx, uint64_t va, uint64_t pte);
void eg_flush(struct gpuvm_ctx *ctx);

/* Kernels (one thread).  store: *(u32 *)p0 = 1.  load: *(u32 *)p1 = *(u32 *)p0.
 * spin: *(u32 *)p0 = 1, then loop forever.  nop: exit. */
struct gpuvm_module *eg_store_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx);
struct gpuvm_module *eg_load_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx);
struct gpuvm_module *eg_spin_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx);
struct gpuvm_module *eg_nop_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx);
/* Launch one thread with params {a, b} and wait; the error code. */
int eg_launch(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, uint64_t a, uint64_t b);

/* Run a workload on ctx; the error code (GPUVM_OK when verified). */
int eg_workload(struct gpuvm_ctx *ctx, const char *name, uint64_t size);

/*
 * A victim guest: keeps EG_SECRET_BYTES of secret in its VRAM and says
 * "secret PHYS INST" (guest-physical address of the secret, and of its
 * context's instance block).  On "verify" it checks the secret through the
 * copy engine and PRAMIN, runs a workload, and says "intact".
 */
#define EG_SECRET_BYTES (64u << 10)
int eg_keeper(struct e2e_io *io, void *arg);

/* Deterministic bytes. */
void eg_fill(void *buf, size_t n, uint32_t seed);

#endif
