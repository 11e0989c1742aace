/*
 * gpusim host semaphores (release short/long, acquire EQ/GEQ/AND), REF_CNT,
 * NOTIFY_INTR and PTIMER.
 */
#include "util.h"

#include <stdatomic.h>

#define QUIET_MS 30

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf buf;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, 37);
	f->buf = tchan_buf(f->ch, 4096);
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

static uint64_t ptimer(struct tdev *t)
{
	for (;;) {
		uint32_t hi = rd32(t, NV_PTIMER_TIME_HIGH);
		uint32_t lo = rd32(t, NV_PTIMER_TIME_LOW);
		if (rd32(t, NV_PTIMER_TIME_HIGH) == hi)
			return (uint64_t)hi << 32 | lo;
	}
}

static void test_ptimer_monotonic_ns(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	uint64_t before = now_ns();
	uint64_t p0 = ptimer(t);
	uint64_t after = now_ns();
	/* The host's CLOCK_MONOTONIC in ns, low bits kept. */
	assert_in_range(p0, before, after);
	uint64_t prev = p0;
	bool low_bits = false;
	for (int i = 0; i < 10000; i++) {
		uint64_t p = ptimer(t);
		assert_true(p >= prev);
		low_bits |= (p & 0x1f) != 0;
		prev = p;
	}
	assert_true(low_bits);
	/* Writes are ignored. */
	wr32(t, NV_PTIMER_TIME_LOW, 0);
	wr32(t, NV_PTIMER_TIME_HIGH, 0);
	assert_true(ptimer(t) >= prev);
	/* It advances at 1 ns per ns: 2 ms of host time is about 2 ms of PTIMER. */
	uint64_t h0 = now_ns(), q0 = ptimer(t);
	while (now_ns() - h0 < 2000000)
		;
	uint64_t h1 = now_ns(), q1 = ptimer(t);
	assert_in_range(q1 - q0, (h1 - h0) / 2, (h1 - h0) * 2);
}

static void test_release_short(void **state)
{
	struct fixture *f = *state;
	vram_wr32(f->t, f->buf.phys + 0x104, 0xdeadbeef);
	pb_sem_release(f->ch, f->buf.va + 0x100, 0xfeedface, true);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x100), 0xfeedface);
	assert_int_equal(vram_rd32(f->t, f->buf.phys + 0x104), 0xdeadbeef);
}

static void test_release_long_timestamp(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	vram_fill32(t, f->buf.phys + 0x200, 0xdeadbeef, 0x30);
	uint64_t t0 = ptimer(t);
	pb_sem_release(f->ch, f->buf.va + 0x200, 0x12345678, false);
	assert_true(tchan_sync(f->ch));
	pb_sem_release(f->ch, f->buf.va + 0x210, 0x9abcdef0, false);
	assert_true(tchan_sync(f->ch));
	uint64_t t1 = ptimer(t);

	assert_int_equal(vram_rd32(t, f->buf.phys + 0x200), 0x12345678);
	assert_int_equal(vram_rd32(t, f->buf.phys + 0x204), 0);
	uint64_t ts0 = vram_rd64(t, f->buf.phys + 0x208);
	assert_int_equal(vram_rd32(t, f->buf.phys + 0x210), 0x9abcdef0);
	assert_int_equal(vram_rd32(t, f->buf.phys + 0x214), 0);
	uint64_t ts1 = vram_rd64(t, f->buf.phys + 0x218);
	assert_in_range(ts0, t0, t1);
	assert_in_range(ts1, ts0, t1);
	/* 16 bytes exactly. */
	assert_int_equal(vram_rd32(t, f->buf.phys + 0x220), 0xdeadbeef);
}

/* Blocks the channel on an acquire, checks it stays blocked for each value in
 * not_yet[], then writes go and checks it proceeds. */
static void acquire_case(struct fixture *f, uint32_t mode, uint32_t seq, const uint32_t *not_yet,
			 unsigned n, uint32_t go)
{
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	uint64_t sem = f->buf.phys + 0x300;
	uint64_t done = f->buf.phys + 0x304;
	vram_wr32(t, sem, not_yet[0]);
	vram_wr32(t, done, 0);
	pb_sem_acquire(ch, f->buf.va + 0x300, seq, mode);
	pb_sem_release(ch, f->buf.va + 0x304, 1, true);
	tchan_submit(ch);
	for (unsigned i = 0; i < n; i++) {
		vram_wr32(t, sem, not_yet[i]);
		assert_false(wait_vram32(t, done, 1, QUIET_MS));
	}
	vram_wr32(t, sem, go);
	assert_true(wait_vram32(t, done, 1, T_TIMEOUT_MS));
	assert_true(tchan_sync(ch));
}

static void test_acquire_eq(void **state)
{
	struct fixture *f = *state;
	static const uint32_t no[] = { 0, 4, 6, 0x80000005 };
	acquire_case(f, NV906F_SEM_ACQUIRE_EQ, 5, no, 4, 5);
}

static void test_acquire_geq_signed_wrap(void **state)
{
	struct fixture *f = *state;
	/* seq 0x10: 0xfffffff0 is "before" it (difference -0x20). */
	static const uint32_t no1[] = { 0xfffffff0, 0x0f, 0x80000010 };
	acquire_case(f, NV906F_SEM_ACQUIRE_GEQ, 0x10, no1, 3, 0x11);
	/* seq 0xfffffff0: 0x5 is after it once the counter wrapped. */
	static const uint32_t no2[] = { 0xffffffe0, 0x7ffffff0 };
	acquire_case(f, NV906F_SEM_ACQUIRE_GEQ, 0xfffffff0, no2, 2, 0x5);
	/* Equal satisfies GEQ at once. */
	vram_wr32(f->t, f->buf.phys + 0x308, 0x42);
	pb_sem_acquire(f->ch, f->buf.va + 0x308, 0x42, NV906F_SEM_ACQUIRE_GEQ);
	assert_true(tchan_sync(f->ch));
}

static void test_acquire_and(void **state)
{
	struct fixture *f = *state;
	static const uint32_t no[] = { 0x3, 0xfffffff0, 0 };
	acquire_case(f, NV906F_SEM_ACQUIRE_AND, 0x4, no, 3, 0x6);
}

/* A blocked channel does not block others. */
static void test_acquire_does_not_block_others(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *other = tchan_start(t, 38);
	vram_wr32(t, f->buf.phys + 0x400, 0);
	pb_sem_acquire(f->ch, f->buf.va + 0x400, 1, NV906F_SEM_ACQUIRE_EQ);
	uint32_t seq = ++f->ch->fence_seq;
	pb_sem_release(f->ch, f->ch->fence.va, seq, true);
	tchan_submit(f->ch);
	for (int i = 0; i < 20; i++)
		assert_true(tchan_sync(other));
	assert_int_equal(vram_rd32(t, f->ch->fence.phys), seq - 1);
	vram_wr32(t, f->buf.phys + 0x400, 1);
	assert_true(wait_vram32(t, f->ch->fence.phys, seq, T_TIMEOUT_MS));
	tchan_free(other);
}

/* A semaphore written by another channel (GPU-GPU sync). */
static void test_acquire_released_by_other_channel(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *other = tchan_start(t, 39);
	uint64_t va2 = 0x40000000;
	tvm_map(t, other->vm, va2, f->buf.phys, 4096, false);
	assert_true(tvm_flush(t, other->vm));
	vram_wr32(t, f->buf.phys + 0x500, 0);
	pb_sem_acquire(f->ch, f->buf.va + 0x500, 7, NV906F_SEM_ACQUIRE_GEQ);
	uint32_t seq = ++f->ch->fence_seq;
	pb_sem_release(f->ch, f->ch->fence.va, seq, true);
	tchan_submit(f->ch);
	assert_false(wait_vram32(t, f->ch->fence.phys, seq, QUIET_MS));
	pb_sem_release(other, va2 + 0x500, 7, true);
	assert_true(tchan_sync(other));
	assert_true(wait_vram32(t, f->ch->fence.phys, seq, T_TIMEOUT_MS));
	tchan_free(other);
}

static void test_ref_cnt(void **state)
{
	struct fixture *f = *state;
	pb_mthd(f->ch, 0, NV906F_REF_CNT, 0xabcdef01);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->ch->userd + NV_USERD_REF), 0xabcdef01);
	pb_mthd(f->ch, 3, NV906F_REF_CNT, 2);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->ch->userd + NV_USERD_REF), 2);
}

static atomic_uint irqs;
static void on_irq(void *arg)
{
	(void)arg;
	atomic_fetch_add(&irqs, 1);
}

static void test_notify_intr(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	atomic_store(&irqs, 0);
	t->hw->ops->set_irq_handler(t->hw, on_irq, NULL);
	wr32(t, NV_PMC_INTR_EN, NV_PMC_INTR_EN_HW);
	wr32(t, NV_PGRAPH_INTR, 0xffffffff);
	wr32(t, NV_PGRAPH_INTR_EN, 0);

	/* Not enabled in PGRAPH: status bits only. */
	pb_mthd(f->ch, 0, NV906F_NOTIFY_INTR, 0);
	assert_true(tchan_sync(f->ch));
	assert_true(wait_reg(t, NV_PGRAPH_INTR, NV_PGRAPH_INTR_NOTIFY, NV_PGRAPH_INTR_NOTIFY, T_TIMEOUT_MS));
	/* chid 37: word 1, bit 5. */
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(1)), 1u << 5);
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(0)), 0);
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(2)), 0);
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(3)), 0);
	assert_int_equal(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PGRAPH, 0);

	/* Enabling PGRAPH's bit shows it in PMC. */
	wr32(t, NV_PGRAPH_INTR_EN, NV_PGRAPH_INTR_NOTIFY);
	assert_true(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PGRAPH);

	/* W1C. */
	wr32(t, NV_PGRAPH_NOTIFY_CHANS(1), 1u << 5);
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(1)), 0);
	wr32(t, NV_PGRAPH_INTR, NV_PGRAPH_INTR_NOTIFY);
	assert_int_equal(rd32(t, NV_PGRAPH_INTR) & NV_PGRAPH_INTR_NOTIFY, 0);
	assert_int_equal(rd32(t, NV_PMC_INTR) & NV_PMC_INTR_PGRAPH, 0);

	/* Enabled: the callback fires from the GPU thread; a second channel adds its bit. */
	unsigned before = atomic_load(&irqs);
	struct tchan *ch2 = tchan_start(t, 100);
	pb_mthd(f->ch, 0, NV906F_NOTIFY_INTR, 0);
	pb_mthd(ch2, 0, NV906F_NOTIFY_INTR, 0);
	assert_true(tchan_sync(f->ch));
	assert_true(tchan_sync(ch2));
	assert_true(wait_reg(t, NV_PMC_INTR, NV_PMC_INTR_PGRAPH, NV_PMC_INTR_PGRAPH, T_TIMEOUT_MS));
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(1)), 1u << 5);
	assert_int_equal(rd32(t, NV_PGRAPH_NOTIFY_CHANS(3)), 1u << 4);
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; atomic_load(&irqs) == before; i++) {
		assert_true(now_ns() < end);
		poll_pause(i);
	}
	wr32(t, NV_PMC_INTR_EN, 0);
	t->hw->ops->set_irq_handler(t->hw, NULL, NULL);
	tchan_free(ch2);
}

/* A release to an unmapped address faults the channel (unit PFIFO). */
static void test_release_fault(void **state)
{
	struct fixture *f = *state;
	pb_sem_release(f->ch, f->buf.va + 0x1000, 1, false);  /* guard page after buf */
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(f->t, NV_FAULT_UNIT_PFIFO);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), 37);
	assert_int_equal(tfault_va(fr) & ~0xfffull, f->buf.va + 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ptimer_monotonic_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_long_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_eq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_geq_signed_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_and, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_does_not_block_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_released_by_other_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ref_cnt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_intr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_fault, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
