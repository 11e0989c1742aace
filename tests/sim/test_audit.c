/*
 * gpusim audit oracle: COUNT counts and performs out-of-range accesses of a
 * channel, ENFORCE refuses them with NV_FAULT_AUDIT, in-range traffic
 * (including the page-table walks, instance block and USERD the GPU reads on
 * the driver's behalf) counts nothing.
 */
#include "util.h"

#include "gpusim_isa.h"

#define CHID 12

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf ok;         /* in the channel's ranges */
	struct tbuf bad;        /* mapped in its VM, outside its ranges */
};

static void allow_channel(struct fixture *f)
{
	struct tchan *ch = f->ch;
	struct gpusim_range r[4] = {
		{ ch->gp.phys, ch->gp.size },
		{ ch->pb.phys, ch->pb.size },
		{ ch->fence.phys, ch->fence.size },
		{ f->ok.phys, f->ok.size },
	};
	assert_int_equal(gpusim_audit_set(f->t->sim, ch->chid, r, 4), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, CHID);
	f->ok = tchan_buf(f->ch, 4 * 4096);
	f->bad = tchan_buf(f->ch, 4 * 4096);
	vram_fill32(f->t, f->ok.phys, 0x0c0c0c0c, f->ok.size);
	vram_fill32(f->t, f->bad.phys, 0xbabababa, f->bad.size);
	allow_channel(f);
	pb_bind(f->ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	assert_true(tchan_sync(f->ch));
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

static void m2mf_copy(struct tchan *ch, uint64_t dst, uint64_t src, uint32_t len)
{
	uint32_t o[2] = { (uint32_t)(dst >> 32), (uint32_t)dst };
	pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, o, 2);
	uint32_t i[6] = { (uint32_t)(src >> 32), (uint32_t)src, 0, 0, len, 1 };
	pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_IN_HI, i, 6);
	pb_mthd(ch, NV_SUBC_M2MF, NV9039_EXEC, NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR);
}

static uint64_t viol(struct fixture *f)
{
	return gpusim_audit_violations(f->t->sim, f->ch->chid);
}

static void test_in_range_counts_nothing(void **state)
{
	struct fixture *f = *state;
	gpusim_audit_mode(f->t->sim, GPUSIM_AUDIT_COUNT);
	pb_sem_release(f->ch, f->ok.va, 1, false);
	pb_sem_acquire(f->ch, f->ok.va, 1, NV906F_SEM_ACQUIRE_EQ);
	m2mf_copy(f->ch, f->ok.va + 0x2000, f->ok.va, 0x2000);
	for (int i = 0; i < 10; i++)
		assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 0);
	assert_int_equal(gpusim_audit_total(f->t->sim), 0);
	assert_int_equal(vram_rd32(f->t, f->ok.phys), 1);
	assert_int_equal(vram_rd32(f->t, f->ok.phys + 0x2000), 1);
}

static void test_count_mode(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_COUNT);
	/* A semaphore release outside: one violation, and it is performed. */
	pb_sem_release(f->ch, f->bad.va + 0x10, 0x5e5e, true);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 1);
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x10), 0x5e5e);
	/* A two-page copy into it: one per page, performed. */
	m2mf_copy(f->ch, f->bad.va + 0x1000, f->ok.va, 0x2000);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 3);
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x1000), 0x0c0c0c0c);
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x2ffc), 0x0c0c0c0c);
	/* Reading outside counts too (copy source). */
	m2mf_copy(f->ch, f->ok.va, f->bad.va, 0x100);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 4);
	assert_int_equal(vram_rd32(t, f->ok.phys + 0x10), 0x5e5e);
	assert_int_equal(gpusim_audit_total(t->sim), 4);
	assert_int_equal(tchan_ctrl(f->ch) & NV_CHAN_CTRL_FAULTED, 0);
}

static void test_enforce_semaphore(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_ENFORCE);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 0);
	pb_sem_release(f->ch, f->bad.va + 0x20, 0x6f6f, true);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PFIFO);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_AUDIT);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), CHID);
	assert_int_equal(tfault_va(fr) & ~0xfffull, f->bad.va);
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x20), 0xbabababa);
	assert_int_equal(viol(f), 1);
}

static void test_enforce_copy(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_ENFORCE);
	m2mf_copy(f->ch, f->bad.va, f->ok.va, 0x2000);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_AUDIT);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	for (uint32_t i = 0; i < 0x2000; i += 4)
		assert_int_equal(vram_rd32(t, f->bad.phys + i), 0xbabababa);
	assert_true(viol(f) >= 1);
}

/* The pushbuffer itself outside the ranges: the fetch is refused. */
static void test_enforce_fetch(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct gpusim_range r[2] = {
		{ f->ch->gp.phys, f->ch->gp.size },
		{ f->ch->fence.phys, f->ch->fence.size },
	};
	assert_int_equal(gpusim_audit_set(t->sim, CHID, r, 2), 0);
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_ENFORCE);
	uint64_t entry_va = f->ch->pb.va + f->ch->pb_start;
	pb_sem_release(f->ch, f->ch->fence.va, 0x77, true);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PFIFO);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_AUDIT);
	assert_int_equal(fr.flags & NV_FAULT_FLAGS_WRITE, 0);
	assert_int_equal(tfault_va(fr) & ~0xfffull, entry_va & ~0xfffull);
	assert_true(vram_rd32(t, f->ch->fence.phys) != 0x77);
}

/* A channel with no ranges may touch nothing; other channels are not charged. */
static void test_no_ranges_and_per_channel(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *other = tchan_start(t, 13);
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_COUNT);
	assert_true(tchan_sync(other));
	uint64_t v13 = gpusim_audit_violations(t->sim, 13);
	/* GPFIFO entry, pushbuffer and fence release: at least three. */
	assert_true(v13 >= 3);
	assert_int_equal(viol(f), 0);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(viol(f), 0);
	assert_int_equal(gpusim_audit_violations(t->sim, 13), v13);
	assert_int_equal(gpusim_audit_total(t->sim), v13);

	/* audit_clear: the channel now has no ranges. */
	gpusim_audit_clear(t->sim, CHID);
	assert_true(tchan_sync(f->ch));
	assert_true(viol(f) >= 3);
	tchan_free(other);
}

static void test_off_counts_nothing(void **state)
{
	struct fixture *f = *state;
	gpusim_audit_mode(f->t->sim, GPUSIM_AUDIT_OFF);
	pb_sem_release(f->ch, f->bad.va, 3, true);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(f->t, f->bad.phys), 3);
	assert_int_equal(viol(f), 0);
	assert_int_equal(gpusim_audit_total(f->t->sim), 0);
}

static void test_set_limits(void **state)
{
	struct fixture *f = *state;
	struct gpusim_range r[GPUSIM_AUDIT_MAX_RANGES + 1];
	for (unsigned i = 0; i <= GPUSIM_AUDIT_MAX_RANGES; i++) {
		r[i].base = i * 0x10000ull;
		r[i].size = 0x1000;
	}
	assert_int_equal(gpusim_audit_set(f->t->sim, 1, r, GPUSIM_AUDIT_MAX_RANGES), 0);
	assert_true(gpusim_audit_set(f->t->sim, 1, r, GPUSIM_AUDIT_MAX_RANGES + 1) < 0);
	assert_true(gpusim_audit_set(f->t->sim, NV_PFIFO_CHANNELS, r, 1) < 0);
	assert_int_equal(gpusim_audit_violations(f->t->sim, NV_PFIFO_CHANNELS), 0);
}

/* A range boundary: the last word inside passes, the first word outside counts. */
static void test_range_boundary(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	struct gpusim_range r[4] = {
		{ ch->gp.phys, ch->gp.size },
		{ ch->pb.phys, ch->pb.size },
		{ ch->fence.phys, ch->fence.size },
		{ f->ok.phys, 0x1000 },
	};
	assert_int_equal(gpusim_audit_set(t->sim, CHID, r, 4), 0);
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_COUNT);
	pb_sem_release(ch, f->ok.va + 0xffc, 1, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(viol(f), 0);
	pb_sem_release(ch, f->ok.va + 0x1000, 1, true);
	assert_true(tchan_sync(ch));
	assert_int_equal(viol(f), 1);
}

/* A kernel storing to target; its code and constants live in the ok buffer. */
static void launch_store(struct fixture *f, uint64_t target)
{
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	uint64_t code[8];
	struct isa_prog p;
	isa_prog_init(&p, code, 8);
	isa_ldc(&p, R(0), 0, 0);
	isa_ldc(&p, R(1), 0, 4);
	isa_movi(&p, R(2), 0x1234);
	isa_st(&p, R(0), 0, R(2));
	isa_exit(&p);
	assert_true(isa_prog_ok(&p));
	vram_write(t, f->ok.phys + 0x3000, code, isa_prog_size(&p));
	uint64_t cb = f->ok.va + 0x2000, cva = f->ok.va + 0x3000;
	pb_bind(ch, NV_SUBC_COMPUTE, NV_CLASS_COMPUTE);
	uint32_t m[] = { 0x100, (uint32_t)(cb >> 32), (uint32_t)cb, 0,
			 (uint32_t)target, (uint32_t)(target >> 32) };
	pb_mthds(ch, NV_SUBC_COMPUTE, NV90C0_CB_SIZE, m, 4);
	pb_hdr(ch, NV_PB_OP_NONINC, NV_SUBC_COMPUTE, NV90C0_CB_DATA(0), 2);
	pb_word(ch, m[4]);
	pb_word(ch, m[5]);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_CB_BIND, NV90C0_CB_BIND_VALID);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_CODE_ADDRESS_HI, (uint32_t)(cva >> 32));
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_CODE_ADDRESS_LO, (uint32_t)cva);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_CP_START_ID, 0);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_GRIDDIM_YX, 1u << 16 | 1);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_GRIDDIM_Z, 1);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_BLOCKDIM_YX, 1u << 16 | 1);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_BLOCKDIM_Z, 1);
	pb_mthd(ch, NV_SUBC_COMPUTE, NV90C0_LAUNCH, 0);
}

static void test_compute_count_and_enforce(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_COUNT);
	/* In range: code, constants and the store all count nothing. */
	launch_store(f, f->ok.va + 0x100);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->ok.phys + 0x100), 0x1234);
	assert_int_equal(viol(f), 0);
	/* Out of range under COUNT: counted, performed. */
	launch_store(f, f->bad.va + 0x100);
	assert_true(tchan_sync(f->ch));
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x100), 0x1234);
	assert_int_equal(viol(f), 1);
	/* Under ENFORCE: a PGRAPH fault with reason AUDIT, memory unchanged. */
	gpusim_audit_mode(t->sim, GPUSIM_AUDIT_ENFORCE);
	launch_store(f, f->bad.va + 0x200);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_AUDIT);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(tfault_va(fr), f->bad.va + 0x200);
	assert_int_equal(vram_rd32(t, f->bad.phys + 0x200), 0xbabababa);
	assert_int_equal(viol(f), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_range_counts_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enforce_semaphore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enforce_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enforce_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ranges_and_per_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_counts_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compute_count_and_enforce, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
