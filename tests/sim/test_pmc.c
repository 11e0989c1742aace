/*
 * gpusim PMC: identification, engine enables, interrupt routing, the host
 * interrupt callback, unmodeled registers and the VRAM size registers.
 */
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static void test_boot0(void **state)
{
	struct tdev *t = *state;
	uint32_t v = rd32(t, NV_PMC_BOOT0);
	assert_int_equal(v, NV_PMC_BOOT0_GF100);
	assert_int_equal(NV_PMC_BOOT0_CHIPSET(v), 0x0c0);
	assert_int_equal(rd32(t, NV_PMC_ENDIAN), 0);
	/* BOOT0 is read-only. */
	wr32(t, NV_PMC_BOOT0, 0x12345678);
	assert_int_equal(rd32(t, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
}

static void test_enable_reset_value(void **state)
{
	struct tdev *t = *state;
	uint32_t want = NV_PMC_UNIT_PCOPY0 | NV_PMC_UNIT_PCOPY1 | NV_PMC_UNIT_PFIFO |
			NV_PMC_UNIT_PGRAPH | NV_PMC_UNIT_PTIMER;
	assert_int_equal(rd32(t, NV_PMC_ENABLE) & want, want);
	assert_int_equal(rd32(t, NV_PFIFO_ENABLE) & 1, 1);
}

/* Clearing PFIFO in ENABLE stops every channel; setting it again resumes them. */
static void test_enable_pfifo_gates_channels(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 3);
	struct tbuf sem = tchan_buf(ch, 4096);
	assert_true(tchan_sync(ch));

	uint32_t en = rd32(t, NV_PMC_ENABLE);
	wr32(t, NV_PMC_ENABLE, en & ~NV_PMC_UNIT_PFIFO);
	assert_int_equal(rd32(t, NV_PMC_ENABLE) & NV_PMC_UNIT_PFIFO, 0);
	pb_sem_release(ch, sem.va, 0x1111, true);
	tchan_submit(ch);
	assert_false(wait_vram32(t, sem.phys, 0x1111, 50));

	wr32(t, NV_PMC_ENABLE, en);
	assert_true(wait_vram32(t, sem.phys, 0x1111, T_TIMEOUT_MS));
	assert_true(tchan_sync(ch));

	/* Same for PGRAPH. */
	wr32(t, NV_PMC_ENABLE, en & ~NV_PMC_UNIT_PGRAPH);
	pb_sem_release(ch, sem.va, 0x2222, true);
	tchan_submit(ch);
	assert_false(wait_vram32(t, sem.phys, 0x2222, 50));
	wr32(t, NV_PMC_ENABLE, en);
	assert_true(wait_vram32(t, sem.phys, 0x2222, T_TIMEOUT_MS));
	tchan_free(ch);
}

/*
 * Clearing PFIFO unloads every channel and resets its fetch state: GP_GET
 * restarts at the value in USERD and subchannel bindings are gone.
 */
static void test_enable_pfifo_resets_fetch_state(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 4);
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_bind(ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	assert_true(tchan_sync(ch));

	uint32_t en = rd32(t, NV_PMC_ENABLE);
	wr32(t, NV_PMC_ENABLE, en & ~NV_PMC_UNIT_PFIFO);
	pb_sem_release(ch, sem.va, 0xbad, true);
	tchan_submit(ch);
	/* The driver drops that entry while the channel is unloaded. */
	vram_wr32(t, ch->userd + NV_USERD_GP_GET, ch->gp_put);
	wr32(t, NV_PMC_ENABLE, en);
	pb_sem_release(ch, sem.va + 4, 0x600d, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, sem.phys + 4), 0x600d);
	assert_int_equal(vram_rd32(t, sem.phys), 0);

	/* The M2MF binding on subchannel 2 went with the unload. */
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	pb_mthd(ch, NV_SUBC_M2MF, NV9039_LINE_COUNT, 1);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);
	tchan_free(ch);
}

struct irq_count {
	atomic_uint n;
};

static void count_irq(void *arg)
{
	struct irq_count *c = arg;
	atomic_fetch_add(&c->n, 1);
}

static bool wait_irq(struct irq_count *c, unsigned at_least)
{
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; atomic_load(&c->n) < at_least; i++) {
		if (now_ns() > end)
			return false;
		poll_pause(i);
	}
	return true;
}

/* The runlist-done interrupt shows in PFIFO and, once enabled, in PMC bit 8. */
static void test_intr_pfifo_unit_bit(void **state)
{
	struct tdev *t = *state;
	wr32(t, NV_PFIFO_INTR_EN, 0);
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	assert_true(tdev_runlist(t, NULL, 0));
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_RUNLIST);
	/* Not enabled in PFIFO: PMC shows nothing. */
	assert_int_equal(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO, 0);

	wr32(t, NV_PFIFO_INTR_EN, NV_PFIFO_INTR_RUNLIST);
	assert_int_equal(rd32(t, NV_PFIFO_INTR_EN), NV_PFIFO_INTR_RUNLIST);
	assert_true(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO);
	assert_int_equal(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PGRAPH, 0);

	/* PMC INTR is a read-only summary. */
	wr32(t, NV_PMC_INTR, 0xffffffff);
	assert_true(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO);

	/* Write 1 to clear in PFIFO. */
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_RUNLIST);
	assert_int_equal(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_RUNLIST, 0);
	assert_int_equal(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO, 0);
}

static void test_irq_callback(void **state)
{
	struct tdev *t = *state;
	/* Static: the GPU thread may call back until the model is destroyed. */
	static struct irq_count c;
	atomic_store(&c.n, 0);
	t->hw->ops->set_irq_handler(t->hw, count_irq, &c);

	wr32(t, NV_PFIFO_INTR_EN, NV_PFIFO_INTR_RUNLIST);
	wr32(t, NV_PFIFO_INTR, 0xffffffff);

	/* INTR_EN bit 0 clear: no delivery. */
	wr32(t, NV_PMC_INTR_EN, 0);
	assert_true(tdev_runlist(t, NULL, 0));
	assert_true(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO);
	assert_int_equal(atomic_load(&c.n), 0);
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_RUNLIST);

	/* Enabled: the write that makes the interrupt pending calls back. */
	wr32(t, NV_PMC_INTR_EN, NV_PMC_INTR_EN_HW);
	assert_int_equal(rd32(t, NV_PMC_INTR_EN) & NV_PMC_INTR_EN_HW, NV_PMC_INTR_EN_HW);
	assert_true(tdev_runlist(t, NULL, 0));
	assert_true(wait_irq(&c, 1));
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_RUNLIST);

	/* Again: each time it becomes pending. */
	unsigned before = atomic_load(&c.n);
	assert_true(tdev_runlist(t, NULL, 0));
	assert_true(wait_irq(&c, before + 1));
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_RUNLIST);

	/* From the GPU thread: a VM fault of a channel (PFIFO bit 28). */
	wr32(t, NV_PFIFO_INTR_EN, NV_PFIFO_INTR_VM_FAULT);
	struct tchan *ch = tchan_start(t, 9);
	assert_true(tchan_sync(ch));
	before = atomic_load(&c.n);
	pb_sem_release(ch, 0x7000000000ull, 1, true);   /* nothing mapped there */
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	assert_true(wait_irq(&c, before + 1));
	assert_true(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PFIFO);

	wr32(t, NV_PMC_INTR_EN, 0);
	t->hw->ops->set_irq_handler(t->hw, NULL, NULL);
	tchan_free(ch);
}

static void test_unmodeled_registers(void **state)
{
	struct tdev *t = *state;
	struct gpusim_stats s0 = tdev_stats(t);
	/* PDISPLAY and PNVIO: a compute model has no business with them. */
	assert_int_equal(rd32(t, 0x610000), 0);
	assert_int_equal(gpusim_last_unmodeled(t->sim), 0x610000);
	struct gpusim_stats s1 = tdev_stats(t);
	assert_int_equal(s1.unmodeled_reads, s0.unmodeled_reads + 1);

	wr32(t, 0x00e004, 0xdeadbeef);
	struct gpusim_stats s2 = tdev_stats(t);
	assert_int_equal(s2.unmodeled_writes, s1.unmodeled_writes + 1);
	assert_int_equal(gpusim_last_unmodeled(t->sim), 0x00e004);
	assert_int_equal(rd32(t, 0x00e004), 0);
	struct gpusim_stats s3 = tdev_stats(t);
	assert_int_equal(s3.unmodeled_reads, s2.unmodeled_reads + 1);

	/* Modeled registers are not counted. */
	rd32(t, NV_PMC_BOOT0);
	rd32(t, NV_PFIFO_INTR);
	struct gpusim_stats s4 = tdev_stats(t);
	assert_int_equal(s4.unmodeled_reads, s3.unmodeled_reads);
	assert_int_equal(s4.unmodeled_writes, s3.unmodeled_writes);
}

static void test_vram_size_regs(void **state)
{
	struct tdev *t = *state;
	assert_int_equal(rd32(t, NV_PFB_PARTS), 1);
	assert_int_equal(rd32(t, NV_PFB_PART_MIB), T_VRAM_MIB);

	struct tdev *t2 = tdev_new(32);
	assert_int_equal(rd32(t2, NV_PFB_PARTS), 1);
	assert_int_equal(rd32(t2, NV_PFB_PART_MIB), 32);
	assert_int_equal(t2->hw->ops->vram_size(t2->hw), 32ull << 20);
	tdev_free(t2);
}

static void test_parse_spec(void **state)
{
	(void)state;
	struct gpusim_config cfg;
	char err[128];
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(gpusim_parse_spec("sim,vram=64M,timeslice=500", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.vram_size, 64ull << 20);
	assert_int_equal(cfg.timeslice_us, 500);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(gpusim_parse_spec("sim,vram=1G", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.vram_size, 1ull << 30);
	assert_int_equal(gpusim_parse_spec("sim,bogus=1", &cfg, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != 0);
	assert_int_equal(gpusim_parse_spec("pci", &cfg, err, sizeof(err)), -EINVAL);
}

static void test_hw_identity(void **state)
{
	struct tdev *t = *state;
	assert_ptr_equal(gpusim_from_hw(t->hw), t->sim);
	assert_non_null(t->hw->name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boot0, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_enable_reset_value, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_enable_pfifo_gates_channels, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_enable_pfifo_resets_fetch_state, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_intr_pfifo_unit_bit, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_irq_callback, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_unmodeled_registers, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_vram_size_regs, tdev_setup, tdev_teardown),
		cmocka_unit_test(test_parse_spec),
		cmocka_unit_test_setup_teardown(test_hw_identity, tdev_setup, tdev_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
