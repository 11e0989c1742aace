/*
 * gpusim PFIFO: channel table, runlist, GPFIFO ring and GP_GET, preempt,
 * runnable/runlist gating, LOADED/PENDING, re-binding a faulted channel.
 */
#include "util.h"

/* Negative checks ("X does not happen") wait this long for it not to happen. */
#define QUIET_MS 30

static void test_channel_table(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_new(t, 17);
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_INST(17)),
			 NV_CHAN_INST_VALID | NV_CHAN_INST_POLL | (uint32_t)(ch->inst >> 12));
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_RUNNABLE, NV_CHAN_CTRL_RUNNABLE);
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED, 0);
	/* Neighbours untouched. */
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_INST(16)), 0);
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_INST(18)), 0);
	/* Read-only bits cannot be set by the driver. */
	wr32(t, NV_PFIFO_CHAN_CTRL(18), NV_CHAN_CTRL_LOADED | NV_CHAN_CTRL_FAULTED |
					NV_CHAN_CTRL_PENDING);
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_CTRL(18)) &
			 (NV_CHAN_CTRL_LOADED | NV_CHAN_CTRL_FAULTED | NV_CHAN_CTRL_PENDING), 0);
	/* Unbind. */
	wr32(t, NV_PFIFO_CHAN_INST(17), 0);
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_INST(17)), 0);
	/* Last channel. */
	wr32(t, NV_PFIFO_CHAN_INST(127), NV_CHAN_INST_VALID | 0x1234);
	assert_int_equal(rd32(t, NV_PFIFO_CHAN_INST(127)), NV_CHAN_INST_VALID | 0x1234);
	tchan_free(ch);
}

static void test_runlist_commit(void **state)
{
	struct tdev *t = *state;
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	assert_int_equal(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_RUNLIST, 0);
	struct tchan *ch = tchan_new(t, 2);
	unsigned ids[1] = { 2 };
	assert_true(tdev_runlist(t, ids, 1));
	assert_int_equal(rd32(t, NV_PFIFO_RUNLIST_STATUS) & NV_PFIFO_RUNLIST_PENDING, 0);
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_RUNLIST);
	wr32(t, NV_PFIFO_INTR, NV_PFIFO_INTR_RUNLIST);
	assert_int_equal(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_RUNLIST, 0);
	assert_true(tchan_sync(ch));
	tchan_free(ch);
}

static void test_pfifo_userd_reg(void **state)
{
	struct tdev *t = *state;
	assert_int_equal(rd32(t, NV_PFIFO_ENABLE) & 1, 1);
	wr32(t, NV_PFIFO_USERD_BASE, NV_PFIFO_USERD_VALID | 0x1234);
	assert_int_equal(rd32(t, NV_PFIFO_USERD_BASE), NV_PFIFO_USERD_VALID | 0x1234);
}

/* A 4-entry ring driven through 3 laps: every entry runs, in order. */
static void test_gpfifo_wrap(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_new_opt(t, 4, NULL, 2);
	assert_true(tdev_runlist_set(t, 4, true));
	struct tbuf slots = tchan_buf(ch, 4096);
	struct tbuf last = tchan_buf(ch, 4096);
	for (uint32_t i = 0; i < 13; i++) {
		pb_sem_release(ch, slots.va + 4 * i, 0x100 + i, true);
		pb_sem_release(ch, last.va, i, true);
		tchan_submit(ch);
		/* Each release saw the previous one's value in order. */
		assert_true(wait_vram32(t, last.phys, i, T_TIMEOUT_MS));
		/* GP_GET is written after the entry: it follows shortly. */
		assert_true(wait_vram32(t, ch->userd + NV_USERD_GP_GET, (i + 1) & 3, T_TIMEOUT_MS));
	}
	for (uint32_t i = 0; i < 13; i++)
		assert_int_equal(vram_rd32(t, slots.phys + 4 * i), 0x100 + i);
	/* A burst that fills the ring (3 entries in flight) also completes. */
	for (uint32_t i = 0; i < 3; i++) {
		pb_sem_release(ch, slots.va + 0x100 + 4 * i, 0x200 + i, true);
		tchan_submit(ch);
	}
	assert_true(tchan_sync(ch));
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(vram_rd32(t, slots.phys + 0x100 + 4 * i), 0x200 + i);
	assert_true(wait_vram32(t, ch->userd + NV_USERD_GP_GET, ch->gp_put, T_TIMEOUT_MS));
	tchan_free(ch);
}

/* GP_PUT written through BAR1 (USERD mapped in the BAR1 VM). */
static void test_doorbell_through_bar1(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 33);
	tchan_use_bar1(ch);
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_sem_release(ch, sem.va, 0xb1b1, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, sem.phys), 0xb1b1);
	assert_true(wait_vram32(t, ch->userd + NV_USERD_GP_GET, ch->gp_put, T_TIMEOUT_MS));
	uint32_t get = 0;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, ch->userd_bar1 + NV_USERD_GP_GET, &get, 4), 0);
	assert_int_equal(get, ch->gp_put);
	tchan_free(ch);
}

/* On (re)binding, GP_GET restarts at the value found in USERD. */
static void test_gp_get_from_userd(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_new(t, 40);       /* not on the runlist yet */
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_sem_release(ch, sem.va, 0xbad0, true);
	tchan_submit(ch);
	pb_sem_release(ch, sem.va + 4, 0xbad1, true);
	tchan_submit(ch);
	pb_sem_release(ch, sem.va + 8, 0x600d, true);
	tchan_submit(ch);
	assert_false(wait_vram32(t, sem.phys + 8, 0x600d, QUIET_MS));
	vram_wr32(t, ch->userd + NV_USERD_GP_GET, 2);
	tchan_bind(ch);
	assert_true(tdev_runlist_set(t, 40, true));
	assert_true(wait_vram32(t, sem.phys + 8, 0x600d, T_TIMEOUT_MS));
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, sem.phys), 0);
	assert_int_equal(vram_rd32(t, sem.phys + 4), 0);
	tchan_free(ch);
}

static void test_not_on_runlist_does_not_run(void **state)
{
	struct tdev *t = *state;
	struct tchan *a = tchan_new(t, 10);        /* bound, runnable, not on the runlist */
	struct tchan *b = tchan_start(t, 11);
	struct tbuf sem = tchan_buf(a, 4096);
	pb_sem_release(a, sem.va, 1, true);
	tchan_submit(a);
	assert_true(tchan_sync(b));
	assert_true(tchan_sync(b));
	assert_false(wait_vram32(t, sem.phys, 1, QUIET_MS));
	assert_true(tdev_runlist_set(t, 10, true));
	assert_true(wait_vram32(t, sem.phys, 1, T_TIMEOUT_MS));

	/* An empty runlist stops everything. */
	assert_true(tdev_runlist(t, NULL, 0));
	pb_sem_release(a, sem.va, 2, true);
	tchan_submit(a);
	assert_false(wait_vram32(t, sem.phys, 2, QUIET_MS));
	unsigned ids[2] = { 11, 10 };
	assert_true(tdev_runlist(t, ids, 2));
	assert_true(wait_vram32(t, sem.phys, 2, T_TIMEOUT_MS));
	tchan_free(a);
	tchan_free(b);
}

static void test_not_runnable_does_not_run(void **state)
{
	struct tdev *t = *state;
	struct tchan *a = tchan_start(t, 20);
	struct tchan *b = tchan_start(t, 21);
	struct tbuf sem = tchan_buf(a, 4096);
	assert_true(tchan_sync(a));

	wr32(t, NV_PFIFO_CHAN_CTRL(20), 0);
	assert_int_equal(tchan_ctrl(a) & NV_CHAN_CTRL_RUNNABLE, 0);
	pb_sem_release(a, sem.va, 1, true);
	tchan_submit(a);
	assert_true(tchan_sync(b));
	assert_false(wait_vram32(t, sem.phys, 1, QUIET_MS));
	wr32(t, NV_PFIFO_CHAN_CTRL(20), 0x001f0000 | NV_CHAN_CTRL_RUNNABLE);
	assert_true(wait_vram32(t, sem.phys, 1, T_TIMEOUT_MS));

	/* Invalid (unbound) channel on the runlist: not served either. */
	wr32(t, NV_PFIFO_CHAN_INST(20), 0);
	pb_sem_release(a, sem.va, 2, true);
	tchan_submit(a);
	assert_true(tchan_sync(b));
	assert_false(wait_vram32(t, sem.phys, 2, QUIET_MS));
	tchan_bind(a);
	assert_true(wait_vram32(t, sem.phys, 2, T_TIMEOUT_MS));
	tchan_free(a);
	tchan_free(b);
}

/* Runlist entries with bad channel ids are skipped; the others still run. */
static void test_runlist_bad_entries(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_new(t, 7);
	unsigned ids[4] = { 200, 4095, 7, 128 };
	assert_true(tdev_runlist(t, ids, 4));
	assert_true(tchan_sync(ch));
	tchan_free(ch);
}

static void test_pfifo_enable(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 3);
	struct tbuf sem = tchan_buf(ch, 4096);
	assert_true(tchan_sync(ch));
	wr32(t, NV_PFIFO_ENABLE, 0);
	assert_int_equal(rd32(t, NV_PFIFO_ENABLE) & 1, 0);
	pb_sem_release(ch, sem.va, 5, true);
	tchan_submit(ch);
	assert_false(wait_vram32(t, sem.phys, 5, QUIET_MS));
	wr32(t, NV_PFIFO_ENABLE, 1);
	assert_true(wait_vram32(t, sem.phys, 5, T_TIMEOUT_MS));
	tchan_free(ch);
}

/* Big M2MF copies keep a channel on the GPU long enough to watch LOADED and preempt. */
static void push_big_copies(struct tchan *ch, struct tbuf src, struct tbuf dst, unsigned n)
{
	pb_bind(ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	for (unsigned i = 0; i < n; i++) {
		uint32_t d[2] = { (uint32_t)(dst.va >> 32), (uint32_t)dst.va };
		pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, d, 2);
		uint32_t s[6] = { (uint32_t)(src.va >> 32), (uint32_t)src.va, 4096, 4096, 4096,
				  (uint32_t)(src.size / 4096 / 2) };
		pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_IN_HI, s, 6);
		pb_mthd(ch, NV_SUBC_M2MF, NV9039_EXEC, NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR);
	}
}

static void test_loaded_and_preempt(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 50);
	struct tbuf src = tchan_buf(ch, 8 << 20);
	struct tbuf dst = tchan_buf(ch, 8 << 20);
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_LOADED, 0);

	push_big_copies(ch, src, dst, 48);
	uint32_t seq = ++ch->fence_seq;
	pb_sem_release(ch, ch->fence.va, seq, true);
	tchan_submit(ch);

	bool loaded = false, pending = false;
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; vram_rd32(t, ch->fence.phys) != seq; i++) {
		uint32_t c = tchan_ctrl(ch);
		loaded |= !!(c & NV_CHAN_CTRL_LOADED);
		if (loaded && !pending) {
			/* Preempt while it is resident: pending until it leaves. */
			wr32(t, NV_PFIFO_PREEMPT, 50);
			uint32_t r = rd32(t, NV_PFIFO_PREEMPT);
			assert_true(r == 50 || r == (50 | NV_PFIFO_PREEMPT_PENDING));
			pending = true;
		}
		assert_true(now_ns() < end);
		poll_pause(i);
	}
	assert_true(loaded);
	assert_true(pending);
	assert_true(wait_reg(t, NV_PFIFO_PREEMPT, 0xffffffff, 50, T_TIMEOUT_MS));
	/* The preempted channel still finished all its work. */
	assert_true(wait_vram32(t, ch->userd + NV_USERD_GP_GET, ch->gp_put, T_TIMEOUT_MS));

	/* Preempting a channel that is not resident completes at once. */
	wr32(t, NV_PFIFO_PREEMPT, 99);
	assert_int_equal(rd32(t, NV_PFIFO_PREEMPT), 99);
	tchan_free(ch);
}

/* PENDING follows GP_GET != GP_PUT (here: a channel blocked on an acquire). */
static void test_pending_bit(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 60);
	struct tbuf sem = tchan_buf(ch, 4096);
	assert_true(tchan_sync(ch));
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_PENDING, 0);

	pb_sem_acquire(ch, sem.va, 1, NV906F_SEM_ACQUIRE_EQ);
	tchan_submit(ch);
	uint32_t seq = ++ch->fence_seq;
	pb_sem_release(ch, ch->fence.va, seq, true);
	tchan_submit(ch);
	assert_true(wait_reg(t, NV_PFIFO_CHAN_CTRL(60), NV_CHAN_CTRL_PENDING, NV_CHAN_CTRL_PENDING,
			     T_TIMEOUT_MS));
	assert_false(wait_vram32(t, ch->fence.phys, seq, QUIET_MS));
	assert_true(tchan_ctrl(ch) & NV_CHAN_CTRL_PENDING);
	vram_wr32(t, sem.phys, 1);
	assert_true(wait_vram32(t, ch->fence.phys, seq, T_TIMEOUT_MS));
	assert_true(wait_reg(t, NV_PFIFO_CHAN_CTRL(60), NV_CHAN_CTRL_PENDING, 0, T_TIMEOUT_MS));
	tchan_free(ch);
}

/* A faulted channel is skipped until its 0x3000 entry is written again. */
static void test_rebind_resets_faulted_channel(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 70);
	struct tchan *other = tchan_start(t, 71);
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_bind(ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	assert_true(tchan_sync(ch));

	pb_sem_release(ch, 0x6000000000ull, 1, true);      /* unmapped */
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	pb_sem_release(ch, sem.va, 2, true);
	tchan_submit(ch);
	assert_true(tchan_sync(other));
	assert_false(wait_vram32(t, sem.phys, 2, QUIET_MS));
	assert_true(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED);

	/* Re-bind with GP_GET = GP_PUT: the channel runs again, the skipped release never. */
	tchan_recover(ch);
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED, 0);
	pb_sem_release(ch, sem.va + 4, 3, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, sem.phys + 4), 3);
	assert_int_equal(vram_rd32(t, sem.phys), 0);

	/* The re-bind dropped the subchannel binding: M2MF on subchannel 2 is an error. */
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	pb_mthd(ch, NV_SUBC_M2MF, NV9039_LINE_COUNT, 1);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);
	assert_int_equal(rd32(t, NV_PBDMA_ERR_CHID), 70);

	tchan_recover(ch);
	assert_int_equal(tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED, 0);
	assert_true(tchan_sync(ch));
	tchan_free(ch);
	tchan_free(other);
}

/* Several channels round robin; each completes its own stream in order. */
static void test_round_robin(void **state)
{
	struct tdev *t = *state;
	enum { N = 4, ROUNDS = 16 };
	struct tchan *ch[N];
	struct tbuf sem[N];
	for (unsigned i = 0; i < N; i++) {
		ch[i] = tchan_start(t, 90 + i);
		sem[i] = tchan_buf(ch[i], 4096);
	}
	for (unsigned r = 0; r < ROUNDS; r++)
		for (unsigned i = 0; i < N; i++) {
			pb_sem_release(ch[i], sem[i].va + 4 * r, r + 1, true);
			tchan_submit(ch[i]);
		}
	for (unsigned i = 0; i < N; i++) {
		assert_true(tchan_sync(ch[i]));
		for (unsigned r = 0; r < ROUNDS; r++)
			assert_int_equal(vram_rd32(t, sem[i].phys + 4 * r), r + 1);
	}
	struct gpusim_stats s = tdev_stats(t);
	assert_true(s.channel_switches >= N);
	for (unsigned i = 0; i < N; i++)
		tchan_free(ch[i]);
}

/*
 * The instance block is read at every switch-in: a hypervisor that moves
 * USERD or swaps the page directory of a channel that is off the GPU sees
 * the change with the channel's next work.
 */
static void test_instance_reread_at_switch_in(void **state)
{
	struct tdev *t = *state;
	struct tchan *ch = tchan_start(t, 44);
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_sem_release(ch, sem.va, 1, true);
	assert_true(tchan_sync(ch));
	assert_true(wait_vram32(t, ch->userd + NV_USERD_GP_GET, ch->gp_put, T_TIMEOUT_MS));

	/* A second VM mapping the same ring, pushbuffer and fence, but sem elsewhere. */
	struct tvm *vm2 = tvm_new(t);
	tvm_map(t, vm2, ch->gp.va, ch->gp.phys, ch->gp.size, false);
	tvm_map(t, vm2, ch->pb.va, ch->pb.phys, ch->pb.size, false);
	tvm_map(t, vm2, ch->fence.va, ch->fence.phys, ch->fence.size, false);
	uint64_t sem2 = vram_alloc(t, 4096, 4096);
	tvm_map(t, vm2, sem.va, sem2, 4096, false);
	assert_true(tvm_flush(t, vm2));
	/* A new USERD page holding the same GP_GET/GP_PUT. */
	uint64_t userd2 = vram_alloc(t, NV_USERD_SIZE, NV_USERD_SIZE);
	uint64_t userd1 = ch->userd;
	uint32_t get = vram_rd32(t, userd1 + NV_USERD_GP_GET);
	vram_wr32(t, userd2 + NV_USERD_GP_GET, get);
	vram_wr32(t, userd2 + NV_USERD_GP_PUT, get);

	/* Take the channel off the GPU, then rewrite its instance block. */
	wr32(t, NV_PFIFO_PREEMPT, 44);
	assert_true(wait_reg(t, NV_PFIFO_PREEMPT, 0xffffffff, 44, T_TIMEOUT_MS));
	vram_wr32(t, ch->inst + NV_RAMFC_USERD_LO, (uint32_t)userd2);
	vram_wr32(t, ch->inst + NV_RAMFC_USERD_HI, (uint32_t)(userd2 >> 32));
	tvm_write_inst(t, vm2, ch->inst, NV_VA_LIMIT - 1);

	/* New work; the doorbell is rung in both USERD pages. */
	pb_sem_release(ch, sem.va, 2, true);
	tchan_submit(ch);                                   /* GP_PUT into userd1 */
	vram_wr32(t, userd2 + NV_USERD_GP_PUT, ch->gp_put);
	assert_true(wait_vram32(t, sem2, 2, T_TIMEOUT_MS));
	assert_int_equal(vram_rd32(t, sem.phys), 1);
	assert_true(wait_vram32(t, userd2 + NV_USERD_GP_GET, ch->gp_put, T_TIMEOUT_MS));
	assert_int_equal(vram_rd32(t, userd1 + NV_USERD_GP_GET), get);
	tchan_free(ch);
	tvm_free(vm2);
}

/* Two channels sharing one VM both work. */
static void test_shared_vm(void **state)
{
	struct tdev *t = *state;
	struct tvm *vm = tvm_new(t);
	struct tchan *a = tchan_new_opt(t, 30, vm, T_GP_ORDER);
	struct tchan *b = tchan_new_opt(t, 31, vm, T_GP_ORDER);
	struct tbuf sem = tchan_buf(a, 4096);
	unsigned ids[2] = { 30, 31 };
	assert_true(tdev_runlist(t, ids, 2));
	pb_sem_release(a, sem.va, 0xa, true);
	pb_sem_release(b, sem.va + 4, 0xb, true);
	assert_true(tchan_sync(a));
	assert_true(tchan_sync(b));
	assert_int_equal(vram_rd32(t, sem.phys), 0xa);
	assert_int_equal(vram_rd32(t, sem.phys + 4), 0xb);
	tchan_free(a);
	tchan_free(b);
	tvm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_channel_table, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_runlist_commit, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_pfifo_userd_reg, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_gpfifo_wrap, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_through_bar1, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_gp_get_from_userd, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_not_on_runlist_does_not_run, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_not_runnable_does_not_run, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_runlist_bad_entries, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_pfifo_enable, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_loaded_and_preempt, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_pending_bit, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_rebind_resets_faulted_channel, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_round_robin, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_instance_reread_at_switch_in, tdev_setup, tdev_teardown),
		cmocka_unit_test_setup_teardown(test_shared_vm, tdev_setup, tdev_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
