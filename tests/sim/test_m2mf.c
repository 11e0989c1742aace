/*
 * gpusim M2MF (0x9039): linear and pitched copies, queries, inline PUSH data,
 * and a copy that runs into a fault.
 */
#include "util.h"

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf src, dst, q;
};

#define SRC_SIZE (64u << 10)

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, 9);
	f->src = tchan_buf(f->ch, SRC_SIZE);
	f->dst = tchan_buf(f->ch, SRC_SIZE);
	f->q = tchan_buf(f->ch, 4096);
	static uint8_t pat[SRC_SIZE];
	for (unsigned i = 0; i < SRC_SIZE; i++)
		pat[i] = (uint8_t)(i * 13 + (i >> 8) * 7 + 1);
	vram_write(f->t, f->src.phys, pat, SRC_SIZE);
	vram_fill32(f->t, f->dst.phys, 0xeeeeeeee, SRC_SIZE);
	pb_bind(f->ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
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

static void m2mf(struct tchan *ch, uint32_t mthd, uint32_t data)
{
	pb_mthd(ch, NV_SUBC_M2MF, mthd, data);
}

static void m2mf_copy(struct tchan *ch, uint64_t dst, uint64_t src, uint32_t len, uint32_t lines,
		      uint32_t pitch_in, uint32_t pitch_out, uint32_t exec_extra)
{
	m2mf(ch, NV9039_OFFSET_OUT_HI, (uint32_t)(dst >> 32));
	m2mf(ch, NV9039_OFFSET_OUT_LO, (uint32_t)dst);
	m2mf(ch, NV9039_OFFSET_IN_HI, (uint32_t)(src >> 32));
	m2mf(ch, NV9039_OFFSET_IN_LO, (uint32_t)src);
	m2mf(ch, NV9039_PITCH_IN, pitch_in);
	m2mf(ch, NV9039_PITCH_OUT, pitch_out);
	m2mf(ch, NV9039_LINE_LENGTH_IN, len);
	m2mf(ch, NV9039_LINE_COUNT, lines);
	m2mf(ch, NV9039_EXEC, NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR | exec_extra);
}

static uint8_t src_byte(uint64_t off)
{
	return (uint8_t)(off * 13 + (off >> 8) * 7 + 1);
}

static void test_linear_copy(void **state)
{
	struct fixture *f = *state;
	struct gpusim_stats s0 = tdev_stats(f->t);
	/* Unaligned offsets, a length that crosses several pages. */
	m2mf_copy(f->ch, f->dst.va + 5, f->src.va + 3, 10000, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	static uint8_t out[10016];
	vram_read(f->t, f->dst.phys, out, sizeof(out));
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(out[i], 0xee);
	for (unsigned i = 0; i < 10000; i++)
		if (out[5 + i] != src_byte(3 + i))
			fail_msg("byte %u: %#x != %#x", i, out[5 + i], src_byte(3 + i));
	for (unsigned i = 10005; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xee);
	struct gpusim_stats s1 = tdev_stats(f->t);
	assert_int_equal(s1.copy_bytes - s0.copy_bytes, 10000);
}

static void test_pitched_copy(void **state)
{
	struct fixture *f = *state;
	const uint32_t len = 100, lines = 5, pin = 256, pout = 300;
	m2mf_copy(f->ch, f->dst.va, f->src.va + 8, len, lines, pin, pout, 0);
	assert_true(tchan_sync(f->ch));
	static uint8_t out[2048];
	vram_read(f->t, f->dst.phys, out, sizeof(out));
	for (uint32_t l = 0; l < lines; l++)
		for (uint32_t i = 0; i < pout; i++) {
			uint8_t want = i < len ? src_byte(8 + l * pin + i) : 0xee;
			if (out[l * pout + i] != want)
				fail_msg("line %u byte %u: %#x != %#x", l, i, out[l * pout + i], want);
		}
	assert_int_equal(out[lines * pout], 0xee);
}

/* 4 KiB lines over many pages (the Gdev pattern). */
static void test_page_lines(void **state)
{
	struct fixture *f = *state;
	m2mf_copy(f->ch, f->dst.va, f->src.va, 4096, SRC_SIZE / 4096, 4096, 4096, 0);
	assert_true(tchan_sync(f->ch));
	static uint8_t out[SRC_SIZE];
	vram_read(f->t, f->dst.phys, out, SRC_SIZE);
	for (unsigned i = 0; i < SRC_SIZE; i++)
		if (out[i] != src_byte(i))
			fail_msg("byte %u", i);
}

/* The destination VA range maps physical pages in reverse order. */
static void test_copy_through_translation(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t phys = vram_alloc(t, 4 * 4096, 4096);
	uint64_t va = 0x50000000;
	for (unsigned i = 0; i < 4; i++)
		tvm_map(t, f->ch->vm, va + i * 4096ull, phys + (3 - i) * 4096ull, 4096, false);
	assert_true(tvm_flush(t, f->ch->vm));
	m2mf_copy(f->ch, va, f->src.va, 4 * 4096, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	for (unsigned i = 0; i < 4; i++) {
		uint32_t w = vram_rd32(t, phys + (3 - i) * 4096ull + 0x40);
		uint32_t want = 0;
		for (int b = 3; b >= 0; b--)
			want = want << 8 | src_byte(i * 4096 + 0x40 + (unsigned)b);
		assert_int_equal(w, want);
	}
}

static void test_query_short_and_long(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	vram_fill32(t, f->q.phys, 0xdeadbeef, 64);
	m2mf(f->ch, NV9039_QUERY_HI, (uint32_t)(f->q.va >> 32));
	m2mf(f->ch, NV9039_QUERY_LO, (uint32_t)f->q.va);
	m2mf(f->ch, NV9039_QUERY_SEQ, 0x5151);
	m2mf_copy(f->ch, f->dst.va, f->src.va, 64, 1, 0, 0,
		  NV9039_EXEC_QUERY_WRITE | NV9039_EXEC_QUERY_SHORT);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->q.phys), 0x5151);
	assert_int_equal(vram_rd32(t, f->q.phys + 4), 0xdeadbeef);
	/* The copy is done by the time the query is visible. */
	assert_int_equal(vram_rd32(t, f->dst.phys), (uint32_t)src_byte(0) | (uint32_t)src_byte(1) << 8 |
			 (uint32_t)src_byte(2) << 16 | (uint32_t)src_byte(3) << 24);

	uint64_t before = now_ns();
	m2mf(f->ch, NV9039_QUERY_LO, (uint32_t)f->q.va + 0x10);
	m2mf(f->ch, NV9039_QUERY_SEQ, 0x6262);
	m2mf_copy(f->ch, f->dst.va, f->src.va, 64, 1, 0, 0, NV9039_EXEC_QUERY_WRITE);
	assert_true(tchan_sync(f->ch));
	uint64_t after = now_ns();
	assert_int_equal(vram_rd32(t, f->q.phys + 0x10), 0x6262);
	assert_int_equal(vram_rd32(t, f->q.phys + 0x14), 0);
	assert_in_range(vram_rd64(t, f->q.phys + 0x18), before, after);
	assert_int_equal(vram_rd32(t, f->q.phys + 0x20), 0xdeadbeef);

	/* No query bits: no query. */
	m2mf(f->ch, NV9039_QUERY_LO, (uint32_t)f->q.va + 0x30);
	m2mf_copy(f->ch, f->dst.va, f->src.va, 64, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->q.phys + 0x30), 0xdeadbeef);
}

static void test_push_inline(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	uint64_t out = f->dst.va + 0x100;
	m2mf(ch, NV9039_OFFSET_OUT_HI, (uint32_t)(out >> 32));
	m2mf(ch, NV9039_OFFSET_OUT_LO, (uint32_t)out);
	m2mf(ch, NV9039_LINE_LENGTH_IN, 20);
	m2mf(ch, NV9039_LINE_COUNT, 1);
	m2mf(ch, NV9039_EXEC, NV9039_EXEC_PUSH | NV9039_EXEC_DST_LINEAR);
	pb_hdr(ch, NV_PB_OP_NONINC, NV_SUBC_M2MF, NV9039_DATA, 5);
	for (uint32_t i = 0; i < 5; i++)
		pb_word(ch, 0xc0de0000 + i);
	assert_true(tchan_sync(ch));
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x100 + 4 * i), 0xc0de0000 + i);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x100 + 20), 0xeeeeeeee);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0xfc), 0xeeeeeeee);

	/* DATA words may arrive through several headers, and a page boundary. */
	out = f->dst.va + 0x1ff8;
	m2mf(ch, NV9039_OFFSET_OUT_LO, (uint32_t)out);
	m2mf(ch, NV9039_LINE_LENGTH_IN, 16);
	m2mf(ch, NV9039_EXEC, NV9039_EXEC_PUSH | NV9039_EXEC_DST_LINEAR);
	m2mf(ch, NV9039_DATA, 0x11);
	pb_hdr(ch, NV_PB_OP_NONINC, NV_SUBC_M2MF, NV9039_DATA, 3);
	pb_word(ch, 0x22);
	pb_word(ch, 0x33);
	pb_word(ch, 0x44);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x1ff8), 0x11);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x1ffc), 0x22);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x2000), 0x33);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x2004), 0x44);
	assert_int_equal(vram_rd32(f->t, f->dst.phys + 0x2008), 0xeeeeeeee);
}

/*
 * PUSH data from an OFFSET_OUT that is not 4-byte aligned, two bytes before a
 * page boundary: the bytes follow the virtual addresses.  The page that is
 * physically next to the first one belongs to nobody here and must not change.
 */
static void test_push_unaligned_across_pages(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	uint64_t p = vram_alloc(t, 3 * 4096, 4096);    /* A, victim, B */
	vram_fill32(t, p, 0xaaaaaaaa, 4096);
	vram_fill32(t, p + 4096, 0x76767676, 4096);
	vram_fill32(t, p + 8192, 0xbbbbbbbb, 4096);
	uint64_t va = 0x60000000;
	tvm_map(t, ch->vm, va, p, 4096, false);                 /* A */
	tvm_map(t, ch->vm, va + 4096, p + 8192, 4096, false);   /* B */
	assert_true(tvm_flush(t, ch->vm));

	uint64_t out = va + 4096 - 2;
	m2mf(ch, NV9039_OFFSET_OUT_HI, (uint32_t)(out >> 32));
	m2mf(ch, NV9039_OFFSET_OUT_LO, (uint32_t)out);
	m2mf(ch, NV9039_LINE_LENGTH_IN, 4);
	m2mf(ch, NV9039_LINE_COUNT, 1);
	m2mf(ch, NV9039_EXEC, NV9039_EXEC_PUSH | NV9039_EXEC_DST_LINEAR);
	m2mf(ch, NV9039_DATA, 0x44332211);
	tchan_submit(ch);
	/* Whatever gpusim makes of the misaligned push (write or fault), it stays in A and B. */
	uint32_t seq = ++ch->fence_seq;
	pb_sem_release(ch, ch->fence.va, seq, true);
	tchan_submit(ch);
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; vram_rd32(t, ch->fence.phys) != seq &&
			     !(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED); i++) {
		assert_true(now_ns() < end);
		poll_pause(i);
	}
	for (unsigned i = 0; i < 4096; i += 4)
		if (vram_rd32(t, p + 4096 + i) != 0x76767676)
			fail_msg("physically adjacent page written at +%#x: %#x", i,
				 vram_rd32(t, p + 4096 + i));
	if (!(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED)) {
		assert_int_equal(vram_rd32(t, p + 4092), 0x2211aaaa);
		assert_int_equal(vram_rd32(t, p + 8192), 0xbbbb4433);
	}
}

/* A copy running off the end of the mapping stops the channel (unit PGRAPH). */
static void test_copy_fault_dst(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	/* q is one page followed by an unmapped guard page. */
	vram_fill32(t, f->q.phys, 0xeeeeeeee, 4096);
	m2mf_copy(f->ch, f->q.va, f->src.va, 8192, 1, 0, 0, 0);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_true(rd32(t, NV_PFIFO_FAULT_UNITS) & (1u << NV_FAULT_UNIT_PGRAPH));
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_PTE);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), 9);
	assert_int_equal(tfault_va(fr) & ~0xfffull, f->q.va + 4096);
	assert_int_equal(fr.inst, (uint32_t)(f->ch->inst >> 12));
	/* The page before the fault has been written. */
	for (unsigned i = 0; i < 4096; i += 4)
		assert_int_equal(vram_rd32(t, f->q.phys + i),
				 (uint32_t)src_byte(i) | (uint32_t)src_byte(i + 1) << 8 |
				 (uint32_t)src_byte(i + 2) << 16 | (uint32_t)src_byte(i + 3) << 24);
	/* Later work on the stopped channel does not run. */
	pb_sem_release(f->ch, f->dst.va, 0x99, true);
	tchan_submit(f->ch);
	assert_false(wait_vram32(t, f->dst.phys, 0x99, 30));
}

static void test_copy_fault_src(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t bad = 0x7700000000ull;
	m2mf_copy(f->ch, f->dst.va, bad, 64, 1, 0, 0, 0);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_int_equal(fr.flags & NV_FAULT_FLAGS_WRITE, 0);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_PDE);
	assert_int_equal(tfault_va(fr), bad);
	assert_int_equal(vram_rd32(t, f->dst.phys), 0xeeeeeeee);
	/* The channel recovers and copies again (subchannel must be bound again). */
	tchan_recover(f->ch);
	pb_bind(f->ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	m2mf_copy(f->ch, f->dst.va, f->src.va, 64, 1, 0, 0, 0);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->dst.phys) & 0xff, src_byte(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linear_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pitched_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_through_translation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_short_and_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_unaligned_across_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_fault_dst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_fault_src, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
