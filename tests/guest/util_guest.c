/*
 * Helpers for the libgpuvm-guest tests (util_guest.h).
 */
#include <stdio.h>

#include "gpusim_isa.h"
#include "nvc0/mem.h"
#include "util_guest.h"

void tg_check_ok(int err, const char *what, const char *file, int line)
{
	if (err == GPUVM_OK)
		return;
	print_error("%s:%d: %s returned %d (%s): %s\n", file, line, what, err,
		    gpuvm_strerror(err), gpuvm_last_error());
	fail();
}

struct gpuvm_ctx *tg_ctx_opts(const struct gpuvm_ctx_options *opts)
{
	struct gpuvm_ctx_options o = opts ? *opts : (struct gpuvm_ctx_options){ 0 };
	struct gpuvm_ctx *ctx = NULL;

	if (!o.timeout_ms)
		o.timeout_ms = TG_TIMEOUT_MS;
	TG_OK(gpuvm_ctx_open(TG_SPEC, &o, &ctx));
	return ctx;
}

struct gpuvm_ctx *tg_ctx(void)
{
	return tg_ctx_opts(NULL);
}

struct gpusim *tg_sim(struct gpuvm_ctx *ctx)
{
	struct gpusim *sim = gpuvm_transport_gpusim(gpuvm_raw_transport(gpuvm_ctx_device(ctx)));

	assert_non_null(sim);
	return sim;
}

static struct gpuvm_module *tg_load(struct gpuvm_ctx *ctx, struct isa_prog *p)
{
	struct gpuvm_module *mod = NULL;

	assert_true(isa_prog_ok(p));
	TG_OK(gpuvm_module_load(ctx, p->buf, p->len, &mod));
	return mod;
}

struct gpuvm_module *tg_scale_kernel(struct gpuvm_ctx *ctx)
{
	uint64_t code[64];
	struct isa_prog p;
	isa_fixup out;

	isa_prog_init(&p, code, 64);
	isa_s2r(&p, R(0), SR_TID_X);
	isa_s2r(&p, R(1), SR_CTAID_X);
	isa_s2r(&p, R(2), SR_NTID_X);
	isa_mad(&p, R(0), R(1), R(2), R(0));
	for (unsigned i = 0; i < 7; i++)
		isa_ldc(&p, R(4 + i), 0, 4 * i);       /* R4 in, R6 out, R8 n, R9 mul, R10 add */
	isa_iset(&p, ISA_CMP_GEU, R(1), R(0), R(8));
	out = isa_brnz(&p, R(1), ISA_FORWARD);
	isa_lea(&p, R(12), R(4), R(0), 4);
	isa_ld(&p, R(14), R(12), 0);
	isa_mad(&p, R(14), R(14), R(9), R(10));
	isa_lea(&p, R(12), R(6), R(0), 4);
	isa_st(&p, R(12), 0, R(14));
	isa_patch_here(&p, out);
	isa_exit(&p);
	return tg_load(ctx, &p);
}

int tg_scale(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, gpuvm_devptr in,
	     gpuvm_devptr out, uint32_t n, uint32_t mul, uint32_t add)
{
	struct tg_scale_params prm = { in, out, n, mul, add, 0 };
	struct gpuvm_launch l = {
		.grid = { (n + 255) / 256, 1, 1 },
		.block = { 256, 1, 1 },
		.params = &prm,
		.param_bytes = sizeof(prm),
	};
	int err = gpuvm_launch(mod, &l);

	return err ? err : gpuvm_ctx_synchronize(ctx);
}

struct gpuvm_module *tg_store_kernel(struct gpuvm_ctx *ctx)
{
	uint64_t code[16];
	struct isa_prog p;

	isa_prog_init(&p, code, 16);
	isa_ldc(&p, R(2), 0, 0);
	isa_ldc(&p, R(3), 0, 4);
	isa_movi(&p, R(4), 1);
	isa_st(&p, R(2), 0, R(4));
	isa_exit(&p);
	return tg_load(ctx, &p);
}

int tg_store(struct gpuvm_ctx *ctx, struct gpuvm_module *mod, uint64_t va)
{
	struct gpuvm_launch l = { .params = &va, .param_bytes = sizeof(va) };
	int err = gpuvm_launch(mod, &l);

	return err ? err : gpuvm_ctx_synchronize(ctx);
}

struct gpuvm_module *tg_bad_insn_kernel(struct gpuvm_ctx *ctx)
{
	uint64_t code[4];
	struct isa_prog p;

	isa_prog_init(&p, code, 4);
	isa_emit(&p, 0x7f, 0, 0, 0, 0);    /* no such opcode */
	isa_exit(&p);
	return tg_load(ctx, &p);
}

static uint64_t tg_rd64(struct gpuvm_device *dev, uint64_t addr)
{
	uint32_t w[2];

	TG_OK(gpuvm_raw_vram_read(dev, addr, w, 8));
	return (uint64_t)w[1] << 32 | w[0];
}

uint64_t tg_pte(struct gpuvm_ctx *ctx, uint64_t va, bool large)
{
	struct gpuvm_device *dev = gpuvm_ctx_device(ctx);
	struct gpuvm_ctx_layout lay;
	uint64_t pde, table;
	uint32_t word;
	unsigned shift = large ? NV_LPAGE_SHIFT : NV_SPAGE_SHIFT;

	TG_OK(gpuvm_raw_ctx_layout(ctx, &lay));
	pde = tg_rd64(dev, lay.pd + (va >> NV_PDE_SHIFT) * 8);
	word = large ? (uint32_t)pde : (uint32_t)(pde >> 32);
	if ((word & NV_PDE_APER_MASK) != NV_APER_VRAM)
		return 0;
	table = nv_pde_word_addr(word);
	return tg_rd64(dev, table + ((va & ((1ull << NV_PDE_SHIFT) - 1)) >> shift) * 8);
}

void tg_fill(void *buf, size_t n, uint32_t seed)
{
	uint8_t *b = buf;
	uint32_t s = seed | 1;

	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		b[i] = (uint8_t)s;
	}
}
