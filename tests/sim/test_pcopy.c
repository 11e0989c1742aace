/*
 * gpusim PCOPY (0x90b5, gpusim's method layout in docs/gpusim.md): linear and
 * pitched copies, the semaphore released by LAUNCH, and a faulting copy.
 */
#include "util.h"

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf src, dst, sem;
};

#define SRC_SIZE (32u << 10)

static uint8_t src_byte(uint64_t off)
{
	return (uint8_t)(off * 29 + (off >> 9) + 3);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, 66);
	f->src = tchan_buf(f->ch, SRC_SIZE);
	f->dst = tchan_buf(f->ch, SRC_SIZE);
	f->sem = tchan_buf(f->ch, 4096);
	static uint8_t pat[SRC_SIZE];
	for (unsigned i = 0; i < SRC_SIZE; i++)
		pat[i] = src_byte(i);
	vram_write(f->t, f->src.phys, pat, SRC_SIZE);
	vram_fill32(f->t, f->dst.phys, 0xeeeeeeee, SRC_SIZE);
	vram_fill32(f->t, f->sem.phys, 0xdeadbeef, 64);
	pb_bind(f->ch, NV_SUBC_PCOPY, NV_CLASS_PCOPY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tchan_free(f->ch);
	tdev_free(f->t);
	free(f);
	return 0;
}

static void ce(struct tchan *ch, uint32_t mthd, uint32_t data)
{
	pb_mthd(ch, NV_SUBC_PCOPY, mthd, data);
}

static void ce_copy(struct tchan *ch, uint64_t dst, uint64_t src, uint32_t len, uint32_t lines,
		    uint32_t pitch_in, uint32_t pitch_out, uint32_t launch_extra)
{
	uint32_t d[8] = { (uint32_t)(src >> 32), (uint32_t)src, (uint32_t)(dst >> 32), (uint32_t)dst,
			  pitch_in, pitch_out, len, lines };
	pb_mthds(ch, NV_SUBC_PCOPY, NV90B5_OFFSET_IN_HI, d, 8);
	ce(ch, NV90B5_LAUNCH, NV90B5_LAUNCH_SRC_LINEAR | NV90B5_LAUNCH_DST_LINEAR | launch_extra);
}

static void ce_sem(struct tchan *ch, uint64_t va, uint32_t seq)
{
	uint32_t d[3] = { (uint32_t)(va >> 32), (uint32_t)va, seq };
	pb_mthds(ch, NV_SUBC_PCOPY, NV90B5_SEMAPHORE_HI, d, 3);
}

static void test_linear_copy(void **state)
{
	struct fixture *f = *state;
	struct gpusim_stats s0 = tdev_stats(f->t);
	ce_copy(f->ch, f->dst.va + 1, f->src.va + 2, 9000, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	static uint8_t out[9008];
	vram_read(f->t, f->dst.phys, out, sizeof(out));
	assert_int_equal(out[0], 0xee);
	for (unsigned i = 0; i < 9000; i++)
		if (out[1 + i] != src_byte(2 + i))
			fail_msg("byte %u: %#x != %#x", i, out[1 + i], src_byte(2 + i));
	for (unsigned i = 9001; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xee);
	assert_int_equal(tdev_stats(f->t).copy_bytes - s0.copy_bytes, 9000);
}

static void test_pitched_copy(void **state)
{
	struct fixture *f = *state;
	const uint32_t len = 64, lines = 7, pin = 4096, pout = 128;
	ce_copy(f->ch, f->dst.va, f->src.va + 4, len, lines, pin, pout, 0);
	assert_true(tchan_sync(f->ch));
	static uint8_t out[1024];
	vram_read(f->t, f->dst.phys, out, sizeof(out));
	for (uint32_t l = 0; l < lines; l++)
		for (uint32_t i = 0; i < pout; i++) {
			uint8_t want = i < len ? src_byte(4 + l * pin + i) : 0xee;
			if (out[l * pout + i] != want)
				fail_msg("line %u byte %u: %#x != %#x", l, i, out[l * pout + i], want);
		}
}

static void test_semaphore_short_and_long(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	ce_sem(f->ch, f->sem.va, 0x7001);
	ce_copy(f->ch, f->dst.va, f->src.va, SRC_SIZE, 1, 0, 0, NV90B5_LAUNCH_SEM_SHORT);
	/* Wait on the copy engine's own semaphore: the data must be there. */
	tchan_submit(f->ch);
	assert_true(wait_vram32(t, f->sem.phys, 0x7001, T_TIMEOUT_MS));
	assert_int_equal(vram_rd32(t, f->sem.phys + 4), 0xdeadbeef);
	static uint8_t out[SRC_SIZE];
	vram_read(t, f->dst.phys, out, SRC_SIZE);
	for (unsigned i = 0; i < SRC_SIZE; i++)
		if (out[i] != src_byte(i))
			fail_msg("byte %u", i);

	uint64_t before = now_ns();
	ce_sem(f->ch, f->sem.va + 0x10, 0x7002);
	ce_copy(f->ch, f->dst.va, f->src.va, 16, 1, 0, 0, NV90B5_LAUNCH_SEM_LONG);
	tchan_submit(f->ch);
	assert_true(wait_vram32(t, f->sem.phys + 0x10, 0x7002, T_TIMEOUT_MS));
	uint64_t after = now_ns();
	assert_int_equal(vram_rd32(t, f->sem.phys + 0x14), 0);
	assert_in_range(vram_rd64(t, f->sem.phys + 0x18), before, after);
	assert_int_equal(vram_rd32(t, f->sem.phys + 0x20), 0xdeadbeef);

	/* No semaphore bits: nothing released. */
	ce_sem(f->ch, f->sem.va + 0x30, 0x7003);
	ce_copy(f->ch, f->dst.va, f->src.va, 16, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->sem.phys + 0x30), 0xdeadbeef);
}

static void test_copy_fault(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	vram_fill32(t, f->sem.phys, 0xeeeeeeee, 4096);
	/* sem is one page followed by an unmapped guard page. */
	ce_sem(f->ch, f->dst.va, 0x1234);
	ce_copy(f->ch, f->sem.va + 2048, f->src.va, 4096, 1, 0, 0, NV90B5_LAUNCH_SEM_SHORT);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_PCOPY0));
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT);
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PCOPY0);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), 66);
	assert_int_equal(tfault_va(fr) & ~0xfffull, f->sem.va + 4096);
	assert_int_equal(fr.inst, (uint32_t)(f->ch->inst >> 12));
	/* Bytes before the faulting page were written; no semaphore release. */
	assert_int_equal(vram_rd32(t, f->sem.phys + 2048) & 0xff, src_byte(0));
	assert_int_equal(vram_rd32(t, f->sem.phys + 4092) >> 24, src_byte(2047));
	assert_int_equal(vram_rd32(t, f->dst.phys), 0xeeeeeeee);
	/* Not recorded for PGRAPH. */
	assert_int_equal(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_PGRAPH), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linear_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pitched_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_semaphore_short_and_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_fault, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
