/*
 * Guest-side helpers for the end-to-end tests (util_eguest.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gpusim_isa.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_eguest.h"

struct gpuvm_ctx *eg_ctx(struct e2e_io *io)
{
	struct gpuvm_ctx_options o = { .timeout_ms = E2E_GUEST_TIMEOUT_MS };
	struct gpuvm_ctx *ctx = NULL;

	EG_OK(io, gpuvm_ctx_open(io->spec, &o, &ctx));
	return ctx;
}

struct gpuvm_device *eg_dev(struct gpuvm_ctx *ctx)
{
	return gpuvm_ctx_device(ctx);
}

uint32_t eg_rd32(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr)
{
	uint32_t w;

	EG_OK(io, gpuvm_raw_vram_read(dev, addr, &w, 4));
	return w;
}

uint64_t eg_rd64(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr)
{
	uint32_t w[2];

	EG_OK(io, gpuvm_raw_vram_read(dev, addr, w, 8));
	return (uint64_t)w[1] << 32 | w[0];
}

void eg_wr64(struct e2e_io *io, struct gpuvm_device *dev, uint64_t addr, uint64_t val)
{
	uint32_t w[2] = { (uint32_t)val, (uint32_t)(val >> 32) };

	EG_OK(io, gpuvm_raw_vram_write(dev, addr, w, 8));
}

uint64_t eg_pte_addr(struct e2e_io *io, struct gpuvm_ctx *ctx, uint64_t va)
{
	struct gpuvm_device *dev = eg_dev(ctx);
	struct gpuvm_ctx_layout lay;
	uint64_t pde, in_pde = va & ((1ull << NV_PDE_SHIFT) - 1), at;
	uint32_t spt, lpt;

	EG_OK(io, gpuvm_raw_ctx_layout(ctx, &lay));
	pde = eg_rd64(io, dev, lay.pd + (va >> NV_PDE_SHIFT) * 8);
	lpt = (uint32_t)pde;
	spt = (uint32_t)(pde >> 32);
	if ((spt & NV_PDE_APER_MASK) == NV_APER_VRAM) {
		at = nv_pde_word_addr(spt) + (in_pde >> NV_SPAGE_SHIFT) * 8;
		if (eg_rd64(io, dev, at) & NV_PTE_VALID)
			return at;
	}
	if ((lpt & NV_PDE_APER_MASK) == NV_APER_VRAM) {
		at = nv_pde_word_addr(lpt) + (in_pde >> NV_LPAGE_SHIFT) * 8;
		if (eg_rd64(io, dev, at) & NV_PTE_VALID)
			return at;
	}
	e2e_die(io, __FILE__, __LINE__, "VA 0x%llx is not mapped", (unsigned long long)va);
}

void eg_flush(struct gpuvm_ctx *ctx)
{
	struct gpuvm_device *dev = eg_dev(ctx);
	struct gpuvm_ctx_layout lay;

	if (gpuvm_raw_ctx_layout(ctx, &lay))
		return;
	gpuvm_raw_wr32(dev, NV_BAR_FLUSH, NV_BAR_FLUSH_TRIGGER);
	gpuvm_raw_wr32(dev, NV_MMU_FLUSH_PD, (uint32_t)(lay.pd >> 8));
	gpuvm_raw_wr32(dev, NV_MMU_FLUSH_TRIGGER,
		       NV_MMU_FLUSH_GO | NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_ALL_PDES);
	/* The flush completes before the trapped write returns; read it back as a driver would. */
	(void)gpuvm_raw_rd32(dev, NV_MMU_CTRL);
}

void eg_set_pte(struct e2e_io *io, struct gpuvm_ctx *ctx, uint64_t va, uint64_t pte)
{
	/* New allocations are cleared by queued copies: let them land first, or
	 * the clearing itself would run through the new PTE and fault. */
	EG_OK(io, gpuvm_ctx_synchronize(ctx));
	eg_wr64(io, eg_dev(ctx), eg_pte_addr(io, ctx, va), pte);
	eg_flush(ctx);
}

static struct gpuvm_module *load(struct e2e_io *io, struct gpuvm_ctx *ctx, struct isa_prog *p)
{
	struct gpuvm_module *mod = NULL;

	E2E_CHECK(io, isa_prog_ok(p), "kernel does not assemble");
	EG_OK(io, gpuvm_module_load(ctx, p->buf, p->len, &mod));
	return mod;
}

struct gpuvm_module *eg_store_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx)
{
	uint64_t code[16];
	struct isa_prog p;

	isa_prog_init(&p, code, 16);
	isa_ldc(&p, R(2), 0, 0);
	isa_ldc(&p, R(3), 0, 4);
	isa_movi(&p, R(4), 1);
	isa_st(&p, R(2), 0, R(4));
	isa_exit(&p);
	return load(io, ctx, &p);
}

struct gpuvm_module *eg_load_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx)
{
	uint64_t code[16];
	struct isa_prog p;

	isa_prog_init(&p, code, 16);
	isa_ldc(&p, R(2), 0, 0);
	isa_ldc(&p, R(3), 0, 4);
	isa_ldc(&p, R(4), 0, 8);
	isa_ldc(&p, R(5), 0, 12);
	isa_ld(&p, R(6), R(2), 0);
	isa_st(&p, R(4), 0, R(6));
	isa_exit(&p);
	return load(io, ctx, &p);
}

struct gpuvm_module *eg_spin_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx)
{
	uint64_t code[16];
	struct isa_prog p;
	isa_label loop;

	isa_prog_init(&p, code, 16);
	isa_ldc(&p, R(2), 0, 0);
	isa_ldc(&p, R(3), 0, 4);
	isa_movi(&p, R(4), 1);
	isa_st(&p, R(2), 0, R(4));
	loop = isa_here(&p);
	isa_bra(&p, loop);
	isa_exit(&p);
	return load(io, ctx, &p);
}

struct gpuvm_module *eg_nop_kernel(struct e2e_io *io, struct gpuvm_ctx *ctx)
{
	uint64_t code[4];
	struct isa_prog p;

	isa_prog_init(&p, code, 4);
	isa_exit(&p);
	return load(io, ctx, &p);
}

int eg_launch(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, uint64_t a, uint64_t b)
{
	uint64_t prm[2] = { a, b };
	struct gpuvm_launch l = { .params = prm, .param_bytes = sizeof(prm) };
	int err = gpuvm_launch(mod, &l);

	return err ? err : gpuvm_ctx_synchronize(ctx);
}

int eg_workload(struct gpuvm_ctx *ctx, const char *name, uint64_t size)
{
	const struct gpuvm_workload *w = gpuvm_workload_find(name);
	struct gpuvm_workload_params prm = { .size = size };
	struct gpuvm_workload_result res;

	if (!w)
		return GPUVM_ERR_INVALID;
	memset(&res, 0, sizeof(res));
	return w->run(ctx, &prm, &res);
}

void eg_fill(void *buf, size_t n, uint32_t seed)
{
	uint8_t *b = buf;
	uint32_t s = seed * 2654435761u | 1;

	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		b[i] = (uint8_t)(s >> 8);
	}
}

int eg_keeper(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx = eg_ctx(io);
	uint8_t *secret = malloc(EG_SECRET_BYTES), *seen = malloc(EG_SECRET_BYTES);
	struct gpuvm_ctx_layout lay;
	uint32_t words[64];
	gpuvm_devptr buf;
	uint64_t phys;

	(void)arg;
	E2E_CHECK(io, secret && seen, "out of memory");
	eg_fill(secret, EG_SECRET_BYTES, 0x5ec7e7u);
	EG_OK(io, gpuvm_mem_alloc(ctx, EG_SECRET_BYTES, &buf));
	EG_OK(io, gpuvm_memcpy_htod(ctx, buf, secret, EG_SECRET_BYTES));
	EG_OK(io, gpuvm_raw_ctx_phys(ctx, buf, &phys));
	EG_OK(io, gpuvm_raw_ctx_layout(ctx, &lay));
	e2e_say(io, "secret %" PRIx64 " %" PRIx64, phys, lay.inst);
	e2e_hear_exact(io, "verify");
	EG_OK(io, gpuvm_memcpy_dtoh(ctx, seen, buf, EG_SECRET_BYTES));
	E2E_CHECK(io, !memcmp(seen, secret, EG_SECRET_BYTES), "the secret changed (copy engine view)");
	EG_OK(io, gpuvm_raw_vram_read(eg_dev(ctx), phys, words, sizeof(words)));
	E2E_CHECK(io, !memcmp(words, secret, sizeof(words)), "the secret changed (PRAMIN view)");
	EG_OK(io, eg_workload(ctx, "vadd", 65536));
	e2e_say(io, "intact");
	EG_OK(io, gpuvm_ctx_destroy(ctx));
	free(secret);
	free(seen);
	return 0;
}
