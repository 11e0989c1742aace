/*
 * gpusim pushbuffer decoding: every header kind observed through methods with
 * visible effects, NOP, and the PBDMA errors that stop a channel.
 */
#include "util.h"

#define QUIET_MS 30

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf buf;        /* semaphore / data targets */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, 5);
	f->buf = tchan_buf(f->ch, 4 * 4096);
	wr32(f->t, NV_PBDMA_INTR, 0xffffffff);
	wr32(f->t, NV_PFIFO_INTR, 0xffffffff);
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

static void test_incrementing(void **state)
{
	struct fixture *f = *state;
	/* One INC header covering SEMAPHORE_HI..TRIGGER. */
	pb_sem_release(f->ch, f->buf.va + 0x10, 0x1ac, true);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x10), 0x1ac);
}

static void test_non_incrementing(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	pb_sem_addr(ch, f->buf.va + 0x20);
	/* Three values into SEQUENCE; the last one sticks. */
	pb_hdr(ch, NV_PB_OP_NONINC, 0, NV906F_SEMAPHORE_SEQ, 3);
	pb_word(ch, 0x1111);
	pb_word(ch, 0x2222);
	pb_word(ch, 0x3333);
	pb_mthd(ch, 0, NV906F_SEMAPHORE_TRIG, NV906F_SEM_RELEASE | NV906F_SEM_SHORT);
	/* NONINC on REF_CNT: both words go to REF_CNT, the later one stays. */
	pb_hdr(ch, NV_PB_OP_NONINC, 0, NV906F_REF_CNT, 2);
	pb_word(ch, 0xaaaa);
	pb_word(ch, 0xbbbb);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x20), 0x3333);
	assert_int_equal(vram_rd32(f->t, ch->userd + NV_USERD_REF), 0xbbbb);
}

static void test_immediate(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	pb_sem_addr(ch, f->buf.va + 0x30);
	pb_immd(ch, 0, NV906F_SEMAPHORE_SEQ, 0x1abc);
	pb_immd(ch, 0, NV906F_SEMAPHORE_TRIG, NV906F_SEM_RELEASE);   /* long release */
	pb_immd(ch, 0, NV906F_REF_CNT, 0x1fff);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x30), 0x1abc);
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x34), 0);
	assert_true(vram_rd64(f->t, f->buf.phys + 0x38) != 0);      /* timestamp */
	assert_int_equal(vram_rd32(f->t, ch->userd + NV_USERD_REF), 0x1fff);
	/* Immediate of a subchannel other than 0 also reaches host methods. */
	pb_immd(ch, 6, NV906F_REF_CNT, 0x0123);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, ch->userd + NV_USERD_REF), 0x0123);
}

static void test_increment_once(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	uint64_t va = f->buf.va + 0x40;
	pb_mthd(ch, 0, NV906F_SEMAPHORE_HI, (uint32_t)(va >> 32));
	/* LO, then SEQUENCE twice: an INC decoder would put 0x1000 into TRIGGER. */
	pb_hdr(ch, NV_PB_OP_INC_ONCE, 0, NV906F_SEMAPHORE_LO, 3);
	pb_word(ch, (uint32_t)va);
	pb_word(ch, 0x4444);
	pb_word(ch, 0x5555);
	pb_mthd(ch, 0, NV906F_SEMAPHORE_TRIG, NV906F_SEM_RELEASE | NV906F_SEM_SHORT);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x40), 0x5555);

	/* The classic use: M2MF EXEC then inline DATA words. */
	pb_bind(ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	uint64_t dst = f->buf.va + 0x1000;
	uint32_t o[2] = { (uint32_t)(dst >> 32), (uint32_t)dst };
	pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, o, 2);
	pb_mthd(ch, NV_SUBC_M2MF, NV9039_LINE_LENGTH_IN, 12);
	pb_mthd(ch, NV_SUBC_M2MF, NV9039_LINE_COUNT, 1);
	pb_hdr(ch, NV_PB_OP_INC_ONCE, NV_SUBC_M2MF, NV9039_EXEC, 4);
	pb_word(ch, NV9039_EXEC_PUSH | NV9039_EXEC_DST_LINEAR);
	pb_word(ch, 0xd0d0d0d0);
	pb_word(ch, 0xd1d1d1d1);
	pb_word(ch, 0xd2d2d2d2);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x1000), 0xd0d0d0d0);
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x1004), 0xd1d1d1d1);
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x1008), 0xd2d2d2d2);
}

/* NOPs (with and without data) are executed and counted, nothing else happens. */
static void test_nop_and_count(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	struct gpusim_stats s0 = tdev_stats(f->t);
	pb_mthd(ch, 0, NV906F_NOP, 0);
	pb_hdr(ch, NV_PB_OP_NONINC, 0, NV906F_NOP, 100);
	for (unsigned i = 0; i < 100; i++)
		pb_word(ch, i);
	pb_sem_release(ch, f->buf.va + 0x50, 0x50, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x50), 0x50);
	struct gpusim_stats s1 = tdev_stats(f->t);
	/* 101 NOPs + 4 + 4 semaphore methods at least. */
	assert_true(s1.methods - s0.methods >= 109);
	assert_int_equal(s1.pbdma_errors, s0.pbdma_errors);
	assert_int_equal(rd32(f->t, NV_PBDMA_INTR), 0);
}

/* A zero-count header is harmless. */
static void test_zero_count_header(void **state)
{
	struct fixture *f = *state;
	pb_hdr(f->ch, NV_PB_OP_INC, 0, NV906F_SEMAPHORE_HI, 0);
	pb_sem_release(f->ch, f->buf.va + 0x60, 0x60, true);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x60), 0x60);
}

/* The channel stopped with the given PBDMA bit; the next work does not run. */
static void check_stopped(struct fixture *f, uint32_t bit, uint32_t header, bool check_header)
{
	struct tdev *t = f->t;
	assert_true(tchan_wait_faulted(f->ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & bit);
	assert_int_equal(rd32(t, NV_PBDMA_ERR_CHID), f->ch->chid);
	if (check_header)
		assert_int_equal(rd32(t, NV_PBDMA_ERR_INFO), header);
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_PBDMA);

	pb_sem_release(f->ch, f->buf.va + 0x100, 0x77, true);
	tchan_submit(f->ch);
	assert_false(wait_vram32(t, f->buf.phys + 0x100, 0x77, QUIET_MS));

	/* W1C, then the channel can be recovered. */
	wr32(t, NV_PBDMA_INTR, bit);
	assert_int_equal(rd32(t, NV_PBDMA_INTR) & bit, 0);
	tchan_recover(f->ch);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->buf.phys + 0x100), 0);
}

static void test_bad_header(void **state)
{
	struct fixture *f = *state;
	static const uint32_t bad_ops[] = { 0, 2, 6, 7 };
	for (unsigned i = 0; i < 4; i++) {
		struct gpusim_stats s0 = tdev_stats(f->t);
		uint32_t h = nv_pb_hdr(bad_ops[i], 0, NV906F_NOP, 1);
		pb_word(f->ch, h);
		pb_word(f->ch, 0);
		tchan_submit(f->ch);
		check_stopped(f, NV_PBDMA_INTR_METHOD, h, true);
		assert_true(tdev_stats(f->t).pbdma_errors > s0.pbdma_errors);
		wr32(f->t, NV_PFIFO_INTR, NV_PFIFO_INTR_PBDMA);
	}
}

static void test_zero_length_entry(void **state)
{
	struct fixture *f = *state;
	uint32_t e[2];
	nv_gp_entry(e, f->ch->pb.va, 0);
	tchan_gp_raw(f->ch, e[0], e[1]);
	check_stopped(f, NV_PBDMA_INTR_GPFIFO, 0, false);
}

static void test_unbound_subchannel(void **state)
{
	struct fixture *f = *state;
	pb_mthd(f->ch, 5, 0x0300, 1);
	tchan_submit(f->ch);
	check_stopped(f, NV_PBDMA_INTR_METHOD, nv_pb_hdr(NV_PB_OP_INC, 5, 0x0300, 1), true);
}

static void test_unknown_class(void **state)
{
	struct fixture *f = *state;
	pb_bind(f->ch, 4, 0x1234);
	tchan_submit(f->ch);
	check_stopped(f, NV_PBDMA_INTR_OBJECT, nv_pb_hdr(NV_PB_OP_INC, 4, NV906F_SET_OBJECT, 1), true);
}

/* Known classes bind fine on any subchannel; ignored methods are counted, not fatal. */
static void test_ignored_methods_counted(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	pb_bind(ch, 1, NV_CLASS_COMPUTE);
	pb_bind(ch, 2, NV_CLASS_M2MF);
	pb_bind(ch, 3, NV_CLASS_PCOPY);
	pb_bind(ch, 7, NV_CLASS_M2MF);
	assert_true(tchan_sync(ch));
	struct gpusim_stats s0 = tdev_stats(f->t);
	pb_mthd(ch, 2, 0x0400, 1);          /* not modelled by gpusim's M2MF */
	pb_mthd(ch, 7, 0x0404, 2);
	pb_mthd(ch, 1, 0x0800, 3);          /* nor by its COMPUTE */
	assert_true(tchan_sync(ch));
	struct gpusim_stats s1 = tdev_stats(f->t);
	assert_int_equal(s1.unknown_methods - s0.unknown_methods, 3);
	assert_int_equal(s1.pbdma_errors, s0.pbdma_errors);
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED, 0);
}

/* A GPFIFO entry pointing at unmapped memory: VM fault for unit PFIFO. */
static void test_pushbuffer_fetch_fault(void **state)
{
	struct fixture *f = *state;
	uint32_t e[2];
	uint64_t va = 0x4400000000ull;
	nv_gp_entry(e, va, 16);
	tchan_gp_raw(f->ch, e[0], e[1]);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(f->t, NV_FAULT_UNIT_PFIFO);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), f->ch->chid);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_PDE);
	assert_int_equal(tfault_va(fr) & ~0xfffull, va);
	assert_int_equal(fr.inst, (uint32_t)(f->ch->inst >> 12));
	tchan_recover(f->ch);
	assert_true(tchan_sync(f->ch));
}

/* The GPFIFO ring itself unmapped: also a PFIFO fault. */
static void test_gpfifo_fetch_fault(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	assert_true(tchan_sync(ch));
	tvm_unmap(f->t, ch->vm, ch->gp.va, ch->gp.size);
	assert_true(tvm_flush(f->t, ch->vm));
	pb_sem_release(ch, f->buf.va, 9, true);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	struct tfault fr = tdev_fault(f->t, NV_FAULT_UNIT_PFIFO);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_PTE);
	assert_int_equal(tfault_va(fr) & ~0xfffull, ch->gp.va);
	assert_int_equal(vram_rd32(f->t, f->buf.phys), 0);
}

/* Long method streams split over many GPFIFO entries of odd sizes. */
static void test_many_entries(void **state)
{
	struct fixture *f = *state;
	struct tchan *ch = f->ch;
	for (uint32_t i = 0; i < 200; i++) {
		for (uint32_t k = 0; k < i % 5; k++)
			pb_mthd(ch, 0, NV906F_NOP, k);
		pb_sem_release(ch, f->buf.va + 0x2000 + 4 * i, i ^ 0x5a5a, true);
		tchan_submit(ch);
	}
	assert_true(tchan_sync(ch));
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x2000 + 4 * i), i ^ 0x5a5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_incrementing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_incrementing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_immediate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_increment_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nop_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_count_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbound_subchannel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignored_methods_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pushbuffer_fetch_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpfifo_fetch_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
