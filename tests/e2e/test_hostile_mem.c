/*
 * Hostile guests against another VM's memory, end to end.  Three vGPUs:
 * "evil" attacks, "victim" keeps a secret in its VRAM (and checks it with
 * its own reads afterwards), "bystander" runs a workload meanwhile.
 *
 *   page tables  evil rewrites its own PTEs (through PRAMIN, as a driver
 *                may) to guest-physical addresses beyond its partition: the
 *                victim's secret as a naive "base + address" would place it,
 *                just past the end, an address that wraps to host VRAM 0, a
 *                system-memory aperture.  It then launches a kernel through
 *                them (store and load), copies through them (M2MF both ways)
 *                and points its fence page there, so every submission's
 *                semaphore release goes through it.  Each context must get
 *                its own fault and nothing else.
 *   PRAMIN       evil aims the PRAMIN window past its partition, at the
 *                victim's secret, at the top of the address range and at
 *                another aperture: reads give 0, writes vanish.
 *
 * After each: the victim's secret is intact, the bystander verified, the
 * other VMs saw no fault and no denial, the isolation checker is clean, and
 * the attacker's own vGPU still works once it behaves.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_e2e.h"
#include "util_eguest.h"

#define VRAM_MIB      64

static int setup(void **state)
{
	struct e2e_daemon *d = e2e_start();

	e2e_create(d, "evil", VRAM_MIB, 16);
	e2e_create(d, "victim", VRAM_MIB, 8);
	e2e_create(d, "bystander", VRAM_MIB, 8);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	e2e_stop(*state);
	return 0;
}

/* Targets, as guest-physical addresses of the attacker. */
struct targets {
	uint64_t victim;    /* where base + address would put the victim's secret */
	uint64_t beyond;    /* just past the partition */
	uint64_t wrap;      /* base + address wraps to host VRAM 0 (the daemon's) */
};

static void hear_targets(struct e2e_io *io, struct targets *t)
{
	const char *line = e2e_hear(io);

	if (sscanf(line, "targets %" SCNx64 " %" SCNx64 " %" SCNx64, &t->victim, &t->beyond, &t->wrap) != 3)
		e2e_die(io, __FILE__, __LINE__, "bad targets line '%s'", line);
}

static void expect_fault(struct e2e_io *io, int err, const char *what)
{
	E2E_CHECK(io, err == GPUVM_ERR_FAULTED, "%s: expected a fault, got %s (%s)", what,
		  gpuvm_strerror(err), gpuvm_last_error());
}

/* Zero means the load brought nothing of anyone else's back. */
static void expect_zero(struct e2e_io *io, struct gpuvm_ctx *ctx, gpuvm_devptr p, const char *what)
{
	uint64_t phys;
	uint32_t w[16];

	EG_OK(io, gpuvm_raw_ctx_phys(ctx, p, &phys));
	EG_OK(io, gpuvm_raw_vram_read(eg_dev(ctx), phys, w, sizeof(w)));
	for (unsigned i = 0; i < 16; i++)
		E2E_CHECK(io, w[i] == 0, "%s: word %u is 0x%08x", what, i, w[i]);
}

#define ATTACKS 8

/*
 * The attacker.  One context per attack (a fault is sticky for its
 * context), all kept until "finish" so the test can look at the vGPU with
 * the bad tables in place; then a clean context must work.
 */
static int pte_attacker(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx[ATTACKS];
	struct gpuvm_ctx_layout lay;
	struct targets t;
	gpuvm_devptr x, y;
	unsigned n = 0;

	(void)arg;
	hear_targets(io, &t);

	/* 1. a kernel stores through a PTE aimed at the victim's secret */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.victim, 0));
	expect_fault(io, eg_launch(ctx[n], eg_store_kernel(io, ctx[n]), x, 0), "store to the victim");
	n++;

	/* 2. a kernel loads from it into the attacker's own buffer */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &y));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.victim, 0));
	expect_fault(io, eg_launch(ctx[n], eg_load_kernel(io, ctx[n]), x, y), "load from the victim");
	expect_zero(io, ctx[n], y, "loaded data");
	n++;

	/* 3. M2MF reads through it */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &y));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.victim, 0));
	EG_OK(io, gpuvm_memcpy_dtod(ctx[n], y, x, 4096));
	expect_fault(io, gpuvm_ctx_synchronize(ctx[n]), "copy from the victim");
	expect_zero(io, ctx[n], y, "copied data");
	n++;

	/* 4. M2MF writes through a PTE just past the partition */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &y));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.beyond, 0));
	EG_OK(io, gpuvm_memcpy_dtod(ctx[n], x, y, 4096));
	expect_fault(io, gpuvm_ctx_synchronize(ctx[n]), "copy past the partition");
	n++;

	/* 5. M2MF writes at the victim's secret */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &y));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.victim, 0));
	EG_OK(io, gpuvm_memcpy_dtod(ctx[n], x, y, 4096));
	expect_fault(io, gpuvm_ctx_synchronize(ctx[n]), "copy to the victim");
	n++;

	/* 6. the fence page: every submission ends with a release through it */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_raw_ctx_layout(ctx[n], &lay));
	{
		struct gpuvm_module *nop = eg_nop_kernel(io, ctx[n]);

		eg_set_pte(io, ctx[n], lay.fence_va, nv_pte_vram(t.victim, 0));
		expect_fault(io, eg_launch(ctx[n], nop, 0, 0), "semaphore release at the victim");
	}
	n++;

	/* 7. an address that wraps around to host VRAM 0 */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(t.wrap, 0));
	expect_fault(io, eg_launch(ctx[n], eg_store_kernel(io, ctx[n]), x, 0), "store at host VRAM 0");
	n++;

	/* 8. system memory instead of VRAM */
	ctx[n] = eg_ctx(io);
	EG_OK(io, gpuvm_mem_alloc(ctx[n], 4096, &x));
	eg_set_pte(io, ctx[n], x, nv_pte_vram(0x100000, 0) | 2ull << NV_PTE_APER_SHIFT);
	expect_fault(io, eg_launch(ctx[n], eg_store_kernel(io, ctx[n]), x, 0), "store to system memory");
	n++;

	e2e_say(io, "attacked %u", n);
	e2e_hear_exact(io, "finish");
	for (unsigned i = 0; i < n; i++)
		gpuvm_ctx_destroy(ctx[i]);
	/* Behaving again, the same vGPU works. */
	ctx[0] = eg_ctx(io);
	EG_OK(io, eg_workload(ctx[0], "vadd", 65536));
	EG_OK(io, gpuvm_ctx_destroy(ctx[0]));
	e2e_say(io, "recovered");
	return 0;
}

struct scene {
	struct e2e_proc *keeper, *bystander;
	struct e2e_info evil, victim;
	uint64_t secret;    /* victim guest-physical */
};

static void scene_start(struct e2e_daemon *d, struct scene *s)
{
	char *line;

	s->keeper = e2e_fork(d, "victim", "keeper", eg_keeper, NULL);
	line = e2e_expect(s->keeper, "secret");
	s->secret = strtoull(line, NULL, 16);
	free(line);
	e2e_info(d, "evil", &s->evil);
	e2e_info(d, "victim", &s->victim);
	/* First fit: the victim's partition lies above the attacker's. */
	assert_true(s->victim.vram_base > s->evil.vram_base);
	s->bystander = e2e_run(d, "bystander", "mmul", "128", 2, 0);
}

/* Nobody but the attacker noticed anything. */
static void scene_end(struct e2e_daemon *d, struct scene *s)
{
	struct e2e_info in;

	e2e_send(s->keeper, "verify");
	free(e2e_expect(s->keeper, "intact"));
	e2e_expect_exit(s->keeper, 0);
	e2e_expect_verified(s->bystander);
	e2e_wait_detached(d, "victim");
	e2e_wait_detached(d, "bystander");
	for (unsigned i = 0; i < 2; i++) {
		e2e_info(d, i ? "bystander" : "victim", &in);
		assert_int_equal(in.faults, 0);
		assert_int_equal(in.denied, 0);
		assert_int_equal(in.pte_rejected, 0);
	}
	e2e_assert_isolated(d);
}

static bool faulted(const struct e2e_info *in, void *arg)
{
	(void)arg;
	return in->faults > 0;
}

static void test_ptes_outside_the_partition(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *evil;
	struct e2e_info in;
	struct scene s;
	char *line;

	scene_start(d, &s);
	evil = e2e_fork(d, "evil", "pte-attacker", pte_attacker, NULL);
	e2e_send(evil, "targets %" PRIx64 " %" PRIx64 " %" PRIx64,
		 s.victim.vram_base - s.evil.vram_base + s.secret, s.evil.vram_size,
		 (UINT64_C(1) << 40) - s.evil.vram_base);
	line = e2e_expect(evil, "attacked");
	assert_int_equal(atoi(line), ATTACKS);
	free(line);
	/*
	 * The bad tables are in place now: rejected, faulted, and still
	 * isolated.  The fault count follows the host's interrupt thread, so
	 * wait for it.  It is not compared with the number of attacks: the
	 * host's interrupt thread (host_irq_service) clears PFIFO_INTR after
	 * routing the fault records, so a fault raised in between is not
	 * routed and not counted.  Every attack above has already seen its own
	 * channel stop, which is what the guest relies on.
	 */
	e2e_wait_info(d, "evil", faulted, NULL, "faults routed to the attacker");
	e2e_info(d, "evil", &in);
	assert_true(in.pte_rejected >= ATTACKS);
	e2e_assert_isolated(d);
	e2e_send(evil, "finish");
	free(e2e_expect(evil, "recovered"));
	e2e_expect_exit(evil, 0);
	scene_end(d, &s);
}

/* ---- PRAMIN ------------------------------------------------------------------------- */

static uint32_t window_rd(struct gpuvm_device *dev, uint64_t base64k, uint32_t off)
{
	gpuvm_raw_wr32(dev, NV_PBUS_PRAMIN_BASE, (uint32_t)base64k);
	return gpuvm_raw_rd32(dev, NV_PRAMIN_WINDOW + off);
}

static void window_wr(struct gpuvm_device *dev, uint64_t base64k, uint32_t off, uint32_t val)
{
	gpuvm_raw_wr32(dev, NV_PBUS_PRAMIN_BASE, (uint32_t)base64k);
	gpuvm_raw_wr32(dev, NV_PRAMIN_WINDOW + off, val);
}

#define PROBES 64

static int pramin_attacker(struct e2e_io *io, void *arg)
{
	struct gpuvm_device *dev;
	struct targets t;
	uint64_t size, own = 0x200000;
	unsigned reads = 0;
	struct {
		uint64_t base;          /* PRAMIN base register value (address >> 16, flags) */
		uint32_t off;           /* first window offset */
	} aims[5];

	(void)arg;
	hear_targets(io, &t);
	EG_OK(io, gpuvm_device_open(io->spec, &dev));
	size = gpuvm_raw_vram_size(dev);
	E2E_CHECK(io, size == t.beyond, "VRAM size %" PRIu64 " is not the partition's", size);
	/* The window works inside the partition. */
	window_wr(dev, own >> 16, 0x40, 0x600dcafe);
	E2E_CHECK(io, window_rd(dev, own >> 16, 0x40) == 0x600dcafe, "PRAMIN does not work at all");

	aims[0].base = size >> 16;                       /* just past the end */
	aims[0].off = 0;
	aims[1].base = t.victim >> 16;                   /* the victim's secret, naively placed */
	aims[1].off = (uint32_t)(t.victim & 0xffff);
	aims[2].base = 0xffffff;                         /* the top of the range */
	aims[2].off = 0;
	aims[3].base = 1u << 24;                         /* another target (system memory) */
	aims[3].off = 0;
	aims[4].base = (size - 0x10000) >> 16;           /* straddling the end */
	aims[4].off = 0x10000;
	for (unsigned a = 0; a < 5; a++) {
		for (unsigned i = 0; i < PROBES; i++) {
			uint32_t off = aims[a].off + i * 4, v = window_rd(dev, aims[a].base, off);

			E2E_CHECK(io, v == 0, "aim %u: window 0x%x+0x%x reads 0x%08x", a,
				  (unsigned)aims[a].base, off, v);
			window_wr(dev, aims[a].base, off, 0xbad0bad0);
			reads++;
		}
	}
	/* Straddling: the first 64 KiB of that window is ours and works. */
	window_wr(dev, aims[4].base, 0x100, 0x13572468);
	E2E_CHECK(io, window_rd(dev, aims[4].base, 0x100) == 0x13572468, "window below the end broken");
	E2E_CHECK(io, window_rd(dev, own >> 16, 0x40) == 0x600dcafe, "own data lost");
	e2e_say(io, "probed %u", reads);
	e2e_hear_exact(io, "finish");
	gpuvm_device_close(dev);
	return 0;
}

static void test_pramin_window_outside_the_partition(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *evil;
	struct e2e_info before, after;
	struct scene s;
	char *line;

	scene_start(d, &s);
	evil = e2e_fork(d, "evil", "pramin-attacker", pramin_attacker, NULL);
	e2e_info(d, "evil", &before);
	e2e_send(evil, "targets %" PRIx64 " %" PRIx64 " %" PRIx64,
		 s.victim.vram_base - s.evil.vram_base + s.secret, s.evil.vram_size,
		 (UINT64_C(1) << 40) - s.evil.vram_base);
	line = e2e_expect(evil, "probed");
	assert_int_equal(atoi(line), 5 * PROBES);
	free(line);
	/* Every read and write outside was denied (and counted) by the vGPU. */
	e2e_info(d, "evil", &after);
	assert_true(after.denied - before.denied >= 2 * 5 * PROBES);
	e2e_assert_isolated(d);
	e2e_send(evil, "finish");
	e2e_expect_exit(evil, 0);
	scene_end(d, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ptes_outside_the_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pramin_window_outside_the_partition, setup, teardown),
	};

	return cmocka_run_group_tests_name("e2e: hostile guests vs. memory", tests, NULL, NULL);
}
