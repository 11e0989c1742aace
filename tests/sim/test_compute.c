/*
 * gpusim COMPUTE (0x90c0): kernels in the gpusim ISA (include/gpusim_isa.h)
 * launched with the Fermi launch protocol: vector add, constant buffers,
 * queries, fault isolation between channels, PGRAPH busy status, aborts.
 */
#include "util.h"

#include "gpusim_isa.h"

#define QUIET_MS 30

struct kern {
	uint64_t words[128];
	struct isa_prog p;
};

struct fixture {
	struct tdev *t;
	struct tchan *ch;
	struct tbuf code, cb, q;
};

static void bind_compute(struct tchan *ch)
{
	pb_bind(ch, NV_SUBC_COMPUTE, NV_CLASS_COMPUTE);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->t = tdev_new(0);
	f->ch = tchan_start(f->t, 21);
	f->code = tchan_buf(f->ch, 4096);
	f->cb = tchan_buf(f->ch, 4096);
	f->q = tchan_buf(f->ch, 4096);
	bind_compute(f->ch);
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

static void cp(struct tchan *ch, uint32_t mthd, uint32_t data)
{
	pb_mthd(ch, NV_SUBC_COMPUTE, mthd, data);
}

static void upload_code(struct tdev *t, struct tbuf code, uint64_t off, struct isa_prog *p)
{
	assert_true(isa_prog_ok(p));
	assert_true(off + isa_prog_size(p) <= code.size);
	vram_write(t, code.phys + off, p->buf, isa_prog_size(p));
}

/* Select the constant buffer at va (size bytes), write words at pos, bind it to bank. */
static void cb_upload(struct tchan *ch, uint64_t va, uint32_t size, unsigned bank, uint32_t pos,
		      const uint32_t *words, unsigned n)
{
	cp(ch, NV90C0_CB_SIZE, size);
	cp(ch, NV90C0_CB_ADDRESS_HI, (uint32_t)(va >> 32));
	cp(ch, NV90C0_CB_ADDRESS_LO, (uint32_t)va);
	cp(ch, NV90C0_CB_POS, pos);
	if (n) {
		pb_hdr(ch, NV_PB_OP_NONINC, NV_SUBC_COMPUTE, NV90C0_CB_DATA(0), n);
		for (unsigned i = 0; i < n; i++)
			pb_word(ch, words[i]);
	}
	cp(ch, NV90C0_CB_BIND, bank << 8 | NV90C0_CB_BIND_VALID);
}

static void launch(struct tchan *ch, uint64_t code_va, uint32_t start, uint32_t grid_x,
		   uint32_t block_x)
{
	cp(ch, NV90C0_CODE_ADDRESS_HI, (uint32_t)(code_va >> 32));
	cp(ch, NV90C0_CODE_ADDRESS_LO, (uint32_t)code_va);
	cp(ch, NV90C0_CP_START_ID, start);
	cp(ch, NV90C0_GRIDDIM_YX, 1u << 16 | grid_x);
	cp(ch, NV90C0_GRIDDIM_Z, 1);
	cp(ch, NV90C0_BLOCKDIM_YX, 1u << 16 | block_x);
	cp(ch, NV90C0_BLOCKDIM_Z, 1);
	cp(ch, NV90C0_SHARED_SIZE, 0);
	cp(ch, NV90C0_LAUNCH, 0);
}

static void query(struct tchan *ch, uint64_t va, uint32_t seq, bool is_short)
{
	cp(ch, NV90C0_QUERY_HI, (uint32_t)(va >> 32));
	cp(ch, NV90C0_QUERY_LO, (uint32_t)va);
	cp(ch, NV90C0_QUERY_SEQ, seq);
	cp(ch, NV90C0_QUERY_GET, is_short ? NV90C0_QUERY_GET_SHORT : 0);
}

/*
 * c[i] = a[i] + b[i] (f32) for i < n; bank 0 = { a, b, c (64-bit each), n }.
 */
static void build_vadd(struct isa_prog *p)
{
	isa_s2r(p, R(0), SR_TID_X);
	isa_s2r(p, R(1), SR_CTAID_X);
	isa_s2r(p, R(2), SR_NTID_X);
	isa_mad(p, R(3), R(1), R(2), R(0));
	isa_ldc(p, R(4), 0, 24);
	isa_iset(p, ISA_CMP_GEU, R(5), R(3), R(4));
	isa_fixup out = isa_brnz(p, R(5), ISA_FORWARD);
	isa_ldc(p, R(6), 0, 0);
	isa_ldc(p, R(7), 0, 4);
	isa_ldc(p, R(8), 0, 8);
	isa_ldc(p, R(9), 0, 12);
	isa_ldc(p, R(10), 0, 16);
	isa_ldc(p, R(11), 0, 20);
	isa_lea(p, R(12), R(6), R(3), 4);
	isa_ld(p, R(14), R(12), 0);
	isa_lea(p, R(12), R(8), R(3), 4);
	isa_ld(p, R(15), R(12), 0);
	isa_fadd(p, R(14), R(14), R(15));
	isa_lea(p, R(12), R(10), R(3), 4);
	isa_st(p, R(12), 0, R(14));
	isa_patch_here(p, out);
	isa_exit(p);
}

static void vadd_cb(uint32_t w[7], uint64_t a, uint64_t b, uint64_t c, uint32_t n)
{
	w[0] = (uint32_t)a; w[1] = (uint32_t)(a >> 32);
	w[2] = (uint32_t)b; w[3] = (uint32_t)(b >> 32);
	w[4] = (uint32_t)c; w[5] = (uint32_t)(c >> 32);
	w[6] = n;
}

static float in_a(unsigned i) { return (float)i * 0.37f - 11.5f; }
static float in_b(unsigned i) { return 1.0f / (float)(i + 3); }

struct vadd_bufs {
	struct tbuf a, b, c;
	uint32_t n;
};

static struct vadd_bufs vadd_prepare(struct tchan *ch, uint32_t n)
{
	struct tdev *t = ch->t;
	struct vadd_bufs v = { .n = n };
	v.a = tchan_buf(ch, n * 4ull + 64);
	v.b = tchan_buf(ch, n * 4ull + 64);
	v.c = tchan_buf(ch, n * 4ull + 64);
	float *fa = malloc(n * 4ull), *fb = malloc(n * 4ull);
	assert_non_null(fa);
	assert_non_null(fb);
	for (unsigned i = 0; i < n; i++) {
		fa[i] = in_a(i);
		fb[i] = in_b(i);
	}
	vram_write(t, v.a.phys, fa, n * 4ull);
	vram_write(t, v.b.phys, fb, n * 4ull);
	vram_fill32(t, v.c.phys, 0xdeadbeef, n * 4ull + 64);
	free(fa);
	free(fb);
	return v;
}

static void vadd_check(struct tdev *t, const struct vadd_bufs *v)
{
	uint32_t *got = malloc(v->n * 4ull + 16);
	assert_non_null(got);
	vram_read(t, v->c.phys, got, v->n * 4ull + 16);
	for (unsigned i = 0; i < v->n; i++) {
		float want = in_a(i) + in_b(i);
		uint32_t wb;
		memcpy(&wb, &want, 4);
		if (got[i] != wb)
			fail_msg("c[%u] = %#x, want %#x", i, got[i], wb);
	}
	for (unsigned i = v->n; i < v->n + 4; i++)
		assert_int_equal(got[i], 0xdeadbeef);
	free(got);
}

static void test_vector_add(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_vadd(&k.p);
	upload_code(t, f->code, 0, &k.p);
	struct vadd_bufs v = vadd_prepare(f->ch, 1000);
	uint32_t w[7];
	vadd_cb(w, v.a.va, v.b.va, v.c.va, v.n);
	cb_upload(f->ch, f->cb.va, 256, 0, 0, w, 7);
	struct gpusim_stats s0 = tdev_stats(t);
	launch(f->ch, f->code.va, 0, 8, 128);           /* 1024 threads for 1000 elements */
	query(f->ch, f->q.va, 0x900d, true);
	tchan_submit(f->ch);
	assert_true(wait_vram32(t, f->q.phys, 0x900d, T_TIMEOUT_MS));
	vadd_check(t, &v);
	struct gpusim_stats s1 = tdev_stats(t);
	assert_int_equal(s1.launches - s0.launches, 1);
	assert_true(s1.thread_insns - s0.thread_insns >= 1000 * 20);
	assert_int_equal(tchan_ctrl(f->ch) & NV_CHAN_CTRL_FAULTED, 0);
}

/* CP_START_ID is a byte offset from CODE_ADDRESS. */
static void test_start_id(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_vadd(&k.p);
	/* Zeroed words (opcode 0, invalid) before the entry point. */
	vram_fill32(t, f->code.phys, 0, 0x200);
	upload_code(t, f->code, 0x200, &k.p);
	struct vadd_bufs v = vadd_prepare(f->ch, 64);
	uint32_t w[7];
	vadd_cb(w, v.a.va, v.b.va, v.c.va, v.n);
	cb_upload(f->ch, f->cb.va, 256, 0, 0, w, 7);
	launch(f->ch, f->code.va, 0x200, 1, 64);
	assert_true(tchan_sync(f->ch));
	vadd_check(t, &v);
}

/* out[i] = bank1[i] for 16 words: shows CB_POS, CB_DATA, CB_BIND and the snapshot. */
static void build_cb_dump(struct isa_prog *p, unsigned bank)
{
	isa_s2r(p, R(0), SR_TID_X);
	isa_shli(p, R(1), R(0), 2);
	isa_ldc_r(p, R(2), bank, R(1), 0);
	isa_ldc(p, R(4), 0, 0);
	isa_ldc(p, R(5), 0, 4);
	isa_lea(p, R(6), R(4), R(0), 4);
	isa_st(p, R(6), 0, R(2));
	isa_exit(p);
}

static void test_constant_buffers(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_cb_dump(&k.p, 1);
	upload_code(t, f->code, 0, &k.p);
	struct tbuf out = tchan_buf(ch, 4096);
	struct tbuf cb1 = tchan_buf(ch, 4096);
	vram_fill32(t, cb1.phys, 0x0b0b0b0b, 4096);

	/* bank 0: the output address */
	uint32_t w0[2] = { (uint32_t)out.va, (uint32_t)(out.va >> 32) };
	cb_upload(ch, f->cb.va, 256, 0, 0, w0, 2);
	/* bank 1: 64 bytes, words 2..5 written through CB_POS = 8 with INC over CB_DATA(0..3) */
	cp(ch, NV90C0_CB_SIZE, 64);
	cp(ch, NV90C0_CB_ADDRESS_HI, (uint32_t)(cb1.va >> 32));
	cp(ch, NV90C0_CB_ADDRESS_LO, (uint32_t)cb1.va);
	cp(ch, NV90C0_CB_POS, 8);
	uint32_t d[4] = { 0xc0000002, 0xc0000003, 0xc0000004, 0xc0000005 };
	pb_mthds(ch, NV_SUBC_COMPUTE, NV90C0_CB_DATA(0), d, 4);
	cp(ch, NV90C0_CB_BIND, 1u << 8 | NV90C0_CB_BIND_VALID);
	launch(ch, f->code.va, 0, 1, 16);
	assert_true(tchan_sync(ch));
	/* The words are in memory at address + position, through the VM. */
	assert_int_equal(vram_rd32(t, cb1.phys + 4), 0x0b0b0b0b);
	assert_int_equal(vram_rd32(t, cb1.phys + 8), 0xc0000002);
	assert_int_equal(vram_rd32(t, cb1.phys + 20), 0xc0000005);
	assert_int_equal(vram_rd32(t, cb1.phys + 24), 0x0b0b0b0b);
	for (unsigned i = 0; i < 16; i++) {
		uint32_t want = i >= 2 && i <= 5 ? 0xc0000000 + i : 0x0b0b0b0b;
		assert_int_equal(vram_rd32(t, out.phys + 4 * i), want);
	}

	/* Update one word (CB_POS again), launch again: the new value is seen. */
	cp(ch, NV90C0_CB_POS, 60);
	cp(ch, NV90C0_CB_DATA(0), 0xe000000f);
	launch(ch, f->code.va, 0, 1, 16);
	assert_true(tchan_sync(ch));
	assert_int_equal(vram_rd32(t, out.phys + 60), 0xe000000f);
	assert_int_equal(vram_rd32(t, cb1.phys + 60), 0xe000000f);
}

/* Reading beyond a bound bank's size is a bad access: PBDMA method error, channel stopped. */
static void test_constant_out_of_bounds(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *ch = f->ch;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_cb_dump(&k.p, 1);
	upload_code(t, f->code, 0, &k.p);
	struct tbuf out = tchan_buf(ch, 4096);
	uint32_t w0[2] = { (uint32_t)out.va, (uint32_t)(out.va >> 32) };
	cb_upload(ch, f->cb.va, 256, 0, 0, w0, 2);
	cb_upload(ch, f->cb.va + 256, 32, 1, 0, NULL, 0);   /* 8 words; the kernel reads 16 */
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	launch(ch, f->code.va, 0, 1, 16);
	tchan_submit(ch);
	assert_true(tchan_wait_faulted(ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);
	assert_int_equal(rd32(t, NV_PBDMA_ERR_CHID), ch->chid);
}

static void test_query_after_launch(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_vadd(&k.p);
	upload_code(t, f->code, 0, &k.p);
	struct vadd_bufs v = vadd_prepare(f->ch, 4096);
	uint32_t w[7];
	vadd_cb(w, v.a.va, v.b.va, v.c.va, v.n);
	cb_upload(f->ch, f->cb.va, 256, 0, 0, w, 7);
	vram_fill32(t, f->q.phys, 0xdeadbeef, 64);
	uint64_t before = now_ns();
	launch(f->ch, f->code.va, 0, 16, 256);
	query(f->ch, f->q.va, 0xabc, false);
	tchan_submit(f->ch);
	assert_true(wait_vram32(t, f->q.phys, 0xabc, T_TIMEOUT_MS));
	uint64_t after = now_ns();
	/* When the query is visible, the kernel's stores are too. */
	vadd_check(t, &v);
	assert_int_equal(vram_rd32(t, f->q.phys + 4), 0);
	assert_in_range(vram_rd64(t, f->q.phys + 8), before, after);
	assert_int_equal(vram_rd32(t, f->q.phys + 16), 0xdeadbeef);
}

/* A kernel that stores to an unmapped address stops only its own channel. */
static void test_fault_isolation(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct tchan *good = tchan_start(t, 22);
	bind_compute(good);
	struct tbuf gcode = tchan_buf(good, 4096), gcb = tchan_buf(good, 4096);

	/* Bad kernel: st [0x7000000000 + tid*4] */
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	isa_s2r(&k.p, R(0), SR_TID_X);
	isa_movi(&k.p, R(2), 0);
	isa_movi(&k.p, R(3), 0x70);
	isa_lea(&k.p, R(4), R(2), R(0), 4);
	isa_st(&k.p, R(4), 0x40, R(0));
	isa_exit(&k.p);
	upload_code(t, f->code, 0, &k.p);

	struct kern g;
	isa_prog_init(&g.p, g.words, 128);
	build_vadd(&g.p);
	upload_code(t, gcode, 0, &g.p);
	struct vadd_bufs v = vadd_prepare(good, 2048);
	uint32_t w[7];
	vadd_cb(w, v.a.va, v.b.va, v.c.va, v.n);
	cb_upload(good, gcb.va, 256, 0, 0, w, 7);

	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	launch(f->ch, f->code.va, 0, 4, 32);
	tchan_submit(f->ch);
	launch(good, gcode.va, 0, 8, 256);
	assert_true(tchan_sync(good));
	vadd_check(t, &v);

	assert_true(tchan_wait_faulted(f->ch));
	assert_int_equal(tchan_ctrl(good) & NV_CHAN_CTRL_FAULTED, 0);
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_true(fr.flags & NV_FAULT_FLAGS_WRITE);
	assert_int_equal(NV_FAULT_FLAGS_CHID(fr.flags), f->ch->chid);
	assert_int_equal(NV_FAULT_FLAGS_REASON(fr.flags), NV_FAULT_PDE);
	assert_int_equal(fr.va_hi, 0x70);
	assert_int_equal(fr.inst, (uint32_t)(f->ch->inst >> 12));
	assert_true(rd32(t, NV_PFIFO_INTR) & NV_PFIFO_INTR_VM_FAULT);

	/* The good channel keeps working afterwards. */
	vram_fill32(t, v.c.phys, 0xdeadbeef, v.n * 4ull);
	launch(good, gcode.va, 0, 8, 256);
	assert_true(tchan_sync(good));
	vadd_check(t, &v);
	tchan_free(good);
}

/*
 * Spin until the word at flag (bank 0 words 0/1) is non-zero, then store it
 * at out (words 2/3).  The CPU decides when the kernel ends.
 */
static void build_wait_flag(struct isa_prog *p)
{
	isa_ldc(p, R(4), 0, 0);
	isa_ldc(p, R(5), 0, 4);
	isa_label top = isa_here(p);
	isa_ld(p, R(0), R(4), 0);
	isa_brz(p, R(0), top);
	isa_ldc(p, R(6), 0, 8);
	isa_ldc(p, R(7), 0, 12);
	isa_st(p, R(6), 0, R(0));
	isa_exit(p);
}

static void test_pgraph_busy_during_long_kernel(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_wait_flag(&k.p);
	upload_code(t, f->code, 0, &k.p);
	struct tbuf flag = tchan_buf(f->ch, 4096);
	struct tbuf out = tchan_buf(f->ch, 4096);
	assert_int_equal(rd32(t, NV_PGRAPH_STATUS), 0);

	uint32_t w[4] = { (uint32_t)flag.va, (uint32_t)(flag.va >> 32), (uint32_t)out.va,
			  (uint32_t)(out.va >> 32) };
	cb_upload(f->ch, f->cb.va, 256, 0, 0, w, 4);
	launch(f->ch, f->code.va, 0, 2, 32);
	query(f->ch, f->q.va, 0x5a, true);
	tchan_submit(f->ch);
	/* The kernel cannot finish before the flag is set: PGRAPH must show busy. */
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; rd32(t, NV_PGRAPH_STATUS) == 0; i++) {
		if (now_ns() > end)
			fail_msg("0x400700 never showed busy");
		poll_pause(i);
	}
	/* Registers stay responsive meanwhile; the channel is resident. */
	assert_int_equal(rd32(t, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	assert_true(tchan_ctrl(f->ch) & NV_CHAN_CTRL_LOADED);
	assert_int_equal(vram_rd32(t, f->q.phys), 0);
	assert_true(rd32(t, NV_PGRAPH_STATUS) != 0);

	/* A preempt cannot take the channel off in the middle of a launch. */
	wr32(t, NV_PFIFO_PREEMPT, f->ch->chid);
	assert_int_equal(rd32(t, NV_PFIFO_PREEMPT), f->ch->chid | NV_PFIFO_PREEMPT_PENDING);
	assert_false(wait_reg(t, NV_PFIFO_PREEMPT, 0xffffffff, f->ch->chid, QUIET_MS));

	vram_wr32(t, flag.phys, 0x600d);
	assert_true(wait_reg(t, NV_PFIFO_PREEMPT, 0xffffffff, f->ch->chid, T_TIMEOUT_MS));
	assert_true(wait_vram32(t, f->q.phys, 0x5a, T_TIMEOUT_MS));
	assert_int_equal(vram_rd32(t, out.phys), 0x600d);
	assert_true(wait_reg(t, NV_PGRAPH_STATUS, 0xffffffff, 0, T_TIMEOUT_MS));
}

/* Unbinding a channel (0x3000 = 0) aborts its running kernel; others then run. */
static void test_unbind_aborts_kernel(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	build_wait_flag(&k.p);
	upload_code(t, f->code, 0, &k.p);
	struct tbuf flag = tchan_buf(f->ch, 4096);
	struct tbuf out = tchan_buf(f->ch, 4096);
	uint32_t w[4] = { (uint32_t)flag.va, (uint32_t)(flag.va >> 32), (uint32_t)out.va,
			  (uint32_t)(out.va >> 32) };
	cb_upload(f->ch, f->cb.va, 256, 0, 0, w, 4);
	launch(f->ch, f->code.va, 0, 64, 1024);     /* never ends by itself */
	tchan_submit(f->ch);
	uint64_t end = now_ns() + T_TIMEOUT_MS * 1000000ull;
	for (unsigned i = 0; rd32(t, NV_PGRAPH_STATUS) == 0; i++) {
		if (now_ns() > end)
			fail_msg("0x400700 never showed busy");
		poll_pause(i);
	}
	/* Another channel waits behind the kernel (no preemption of a launch)... */
	struct tchan *other = tchan_start(t, 23);
	struct tbuf sem = tchan_buf(other, 4096);
	pb_sem_release(other, sem.va, 1, true);
	tchan_submit(other);
	assert_false(wait_vram32(t, sem.phys, 1, QUIET_MS));
	/* ...until the host unbinds the channel: the kernel is aborted. */
	wr32(t, NV_PFIFO_CHAN_INST(f->ch->chid), 0);
	assert_true(wait_reg(t, NV_PGRAPH_STATUS, 0xffffffff, 0, T_TIMEOUT_MS));
	assert_true(wait_vram32(t, sem.phys, 1, T_TIMEOUT_MS));
	assert_int_equal(vram_rd32(t, out.phys), 0);
	assert_true(tchan_sync(other));
	tchan_free(other);
}

static void test_bad_instruction_and_dims(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	/* Opcode 0 at the entry point. */
	vram_fill32(t, f->code.phys, 0, 64);
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	launch(f->ch, f->code.va, 0, 1, 1);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);
	assert_int_equal(rd32(t, NV_PBDMA_ERR_CHID), f->ch->chid);

	/* A block of 1025 threads is a bad launch. */
	tchan_recover(f->ch);
	bind_compute(f->ch);
	struct kern k;
	isa_prog_init(&k.p, k.words, 128);
	isa_exit(&k.p);
	upload_code(t, f->code, 0, &k.p);
	launch(f->ch, f->code.va, 0, 1, 64);
	assert_true(tchan_sync(f->ch));
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	launch(f->ch, f->code.va, 0, 1, NV90C0_MAX_BLOCK_THREADS + 1);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);

	/* Zero grid. */
	tchan_recover(f->ch);
	bind_compute(f->ch);
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	launch(f->ch, f->code.va, 0, 0, 64);
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	assert_true(rd32(t, NV_PBDMA_INTR) & NV_PBDMA_INTR_METHOD);
}

/* Code fetched from an unmapped address: a PGRAPH VM fault (read). */
static void test_code_fetch_fault(void **state)
{
	struct fixture *f = *state;
	struct tdev *t = f->t;
	launch(f->ch, f->code.va + 4096, 0, 1, 1);     /* guard page */
	tchan_submit(f->ch);
	assert_true(tchan_wait_faulted(f->ch));
	struct tfault fr = tdev_fault(t, NV_FAULT_UNIT_PGRAPH);
	assert_true(fr.flags & NV_FAULT_FLAGS_VALID);
	assert_int_equal(fr.flags & NV_FAULT_FLAGS_WRITE, 0);
	assert_int_equal(tfault_va(fr) & ~0xfffull, f->code.va + 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vector_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constant_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constant_out_of_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_after_launch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pgraph_busy_during_long_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_aborts_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_instruction_and_dims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_fetch_fault, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
