/*
 * gpusim robustness: random register writes over the whole BAR0 space,
 * random pushbuffers and GPFIFO entries fed to channels, random page tables
 * behind the BARs and a channel.  Afterwards the model must still answer
 * (BOOT0) and a fresh, well-formed channel must still complete a semaphore
 * release.  Fixed seeds, bounded counts, bounded waits.
 */
#include "util.h"

#include <stdio.h>

/* How long an unbound channel's engine work may keep the GPU busy. */
#define WEDGE_MS 2000u

/* ---- PRNG (xorshift64*) ------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd64(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd(void)
{
	return (uint32_t)(rnd64() >> 32);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(((uint64_t)rnd() * n) >> 32);
}

/* Values that are more likely than uniform ones to mean something to the model. */
static uint32_t fuzz_value(void)
{
	switch (below(8)) {
	case 0: return 0;
	case 1: return rnd() & 0xff;
	case 2: return 1u << below(32);
	case 3: return NV_CHAN_INST_VALID | (rnd() & 0x3fff);     /* bindings, GO bits */
	case 4: return rnd() & 0x3ff;                              /* bases inside 64 MiB */
	case 5: return 0x01f00000 | (rnd() & 0xfff);               /* runlist submits */
	default: return rnd();
	}
}

/* A gpusim wedged by fuzzing cannot be destroyed (its GPU thread would be
 * joined forever); leak it then, the failure is reported anyway. */
static bool wedged;

static int fuzz_teardown(void **state)
{
	if (!wedged)
		tdev_free(*state);
	*state = NULL;
	return 0;
}

/* What a driver does after a hostile stretch: put the global state back. */
static void reinit(struct tdev *t, uint32_t enable)
{
	wr32(t, NV_PMC_ENABLE, enable);
	wr32(t, NV_PMC_INTR_EN, 0);
	wr32(t, NV_PFIFO_ENABLE, 1);
	wr32(t, NV_MMU_CTRL, 0);
	wr32(t, NV_PFIFO_INTR_EN, 0);
	wr32(t, NV_PFIFO_INTR, 0xffffffff);
	wr32(t, NV_PBDMA_INTR, 0xffffffff);
	wr32(t, NV_PFIFO_FAULT_UNITS, 0xffffffff);
	wr32(t, NV_PGRAPH_INTR, 0xffffffff);
	memset(t->on_runlist, 0, sizeof(t->on_runlist));
	pramin_forget(t);
	t->zero_allocs = true;
	tvm_free(t->bar1_vm);   /* the BAR1 binding may be gone: make a new one */
	t->bar1_vm = NULL;
}

/* The model still answers and still runs a fresh channel. */
static void check_alive(struct tdev *t, unsigned chid)
{
	assert_int_equal(rd32(t, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	struct tchan *ch = tchan_start(t, chid);
	struct tbuf sem = tchan_buf(ch, 4096);
	pb_sem_release(ch, sem.va, 0xa11fe, false);
	if (!tchan_sync(ch)) {
		fprintf(stderr, "fresh channel %u: ctrl %#x GP_GET %u PUT %u PBDMA %#x\n", chid,
			tchan_ctrl(ch), tchan_gp_get(ch), ch->gp_put, rd32(t, NV_PBDMA_INTR));
		fail_msg("a fresh channel did not complete after fuzzing");
	}
	assert_int_equal(vram_rd32(t, sem.phys), 0xa11fe);
	/* BAR1 still translates. */
	uint64_t off = tdev_bar1_map(t, sem.phys, 4096);
	uint32_t v = 0;
	assert_int_equal(gpu_bar_read(t->hw, GPU_BAR1, off, &v, 4), 0);
	assert_int_equal(v, 0xa11fe);
	tchan_free(ch);
}

/* ---- 1. Random register traffic over all of BAR0 ------------------------- */

static const struct { uint32_t base, size; } hot[] = {
	{ 0x000000, 0x300 },    /* PMC */
	{ 0x001700, 0x20 },     /* PBUS bindings */
	{ 0x002100, 0x60 },     /* PFIFO intr */
	{ 0x002200, 0x80 },     /* PFIFO enable, USERD, runlist */
	{ 0x002590, 0x10 },     /* fault units */
	{ 0x002630, 0x10 },     /* preempt */
	{ 0x002800, 0x100 },    /* fault records */
	{ 0x003000, 0x400 },    /* channel table */
	{ 0x009400, 0x20 },     /* PTIMER */
	{ 0x022438, 4 },
	{ 0x040100, 0x20 },     /* PBDMA */
	{ 0x060000, 0x20 },
	{ 0x070000, 4 },        /* BAR flush */
	{ 0x10f20c, 4 },
	{ 0x100c80, 0x40 },     /* MMU */
	{ 0x400100, 0x40 },     /* PGRAPH intr */
	{ 0x400700, 4 },
	{ 0x700000, 0x100000 }, /* PRAMIN */
};

static uint32_t fuzz_addr(void)
{
	unsigned k = below(100);
	if (k < 45) {
		unsigned h = below(sizeof(hot) / sizeof(hot[0]));
		return hot[h].base + (below(hot[h].size) & ~3u);
	}
	if (k < 90)
		return rnd() & (NV_BAR0_SIZE - 4);
	if (k < 95)
		return rnd() & (NV_BAR0_SIZE - 1);          /* unaligned */
	return rnd();                                       /* beyond BAR0 */
}

static void fuzz_bar_access(struct tdev *t)
{
	static uint8_t buf[8192];
	enum gpu_bar bar = (enum gpu_bar)(below(4) == 0 ? below(8) : (below(2) ? GPU_BAR1 : GPU_BAR3));
	uint64_t size = t->hw->ops->bar_size(t->hw, below(2) ? GPU_BAR1 : GPU_BAR3);
	uint64_t off = below(8) == 0 ? rnd64() : (size ? rnd64() % size : 0);
	size_t len = below(sizeof(buf) + 1);
	if (below(2)) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		gpu_bar_write(t->hw, bar, off, buf, len);
	} else {
		gpu_bar_read(t->hw, bar, off, buf, len);
	}
}

static void test_fuzz_registers(void **state)
{
	struct tdev *t = *state;
	rng = 0x5eed0001;
	uint32_t enable = rd32(t, NV_PMC_ENABLE);
	uint64_t end = now_ns() + 60ull * 1000000000ull;
	for (unsigned i = 0; i < 200000; i++) {
		uint32_t addr = fuzz_addr();
		if (below(4) == 0)
			(void)rd32(t, addr);
		else
			wr32(t, addr, fuzz_value());
		if ((i & 1023) == 0) {
			fuzz_bar_access(t);
			if (now_ns() > end) {
				wedged = true;
				fail_msg("register fuzzing stalled at iteration %u", i);
			}
		}
	}
	struct gpusim_stats s = tdev_stats(t);
	assert_true(s.unmodeled_reads + s.unmodeled_writes > 0);
	reinit(t, enable);
	check_alive(t, 5);
	check_alive(t, 127);
}

/* ---- 2. Random pushbuffers and GPFIFO entries ---------------------------- */

static const uint32_t known_methods[] = {
	NV906F_SET_OBJECT, NV906F_NOP, NV906F_SEMAPHORE_HI, NV906F_SEMAPHORE_LO,
	NV906F_SEMAPHORE_SEQ, NV906F_SEMAPHORE_TRIG, NV906F_NOTIFY_INTR, NV906F_REF_CNT,
	NV9039_OFFSET_OUT_HI, NV9039_OFFSET_OUT_LO, NV9039_EXEC, NV9039_DATA,
	NV9039_OFFSET_IN_HI, NV9039_OFFSET_IN_LO, NV9039_PITCH_IN, NV9039_PITCH_OUT,
	NV9039_LINE_LENGTH_IN, NV9039_LINE_COUNT, NV9039_QUERY_HI, NV9039_QUERY_LO,
	NV9039_QUERY_SEQ, NV90B5_SEMAPHORE_HI, NV90B5_SEMAPHORE_LO, NV90B5_SEMAPHORE_SEQ,
	NV90B5_LAUNCH, NV90B5_OFFSET_OUT_HI, NV90B5_OFFSET_OUT_LO, NV90B5_LINE_LENGTH_IN,
	NV90B5_LINE_COUNT, NV90C0_GRIDDIM_YX, NV90C0_GRIDDIM_Z, NV90C0_SHARED_SIZE,
	NV90C0_LAUNCH, NV90C0_BLOCKDIM_YX, NV90C0_BLOCKDIM_Z, NV90C0_CP_START_ID,
	NV90C0_CODE_ADDRESS_HI, NV90C0_CODE_ADDRESS_LO, NV90C0_CB_BIND, NV90C0_FLUSH,
	NV90C0_QUERY_HI, NV90C0_QUERY_LO, NV90C0_QUERY_SEQ, NV90C0_QUERY_GET,
	NV90C0_CB_SIZE, NV90C0_CB_ADDRESS_HI, NV90C0_CB_ADDRESS_LO, NV90C0_CB_POS,
	NV90C0_CB_DATA(0), NV90C0_CB_DATA(5),
};
#define N_KNOWN (sizeof(known_methods) / sizeof(known_methods[0]))

struct fchan {
	struct tchan *ch;
	struct tbuf scratch;
};

static uint32_t fuzz_data(struct fchan *fc)
{
	switch (below(10)) {
	case 0: case 1: case 2:
		return (uint32_t)fc->scratch.va + (below((uint32_t)fc->scratch.size) & ~3u);
	case 3:
		return (uint32_t)(fc->scratch.va >> 32);
	case 4: case 5:
		return rnd() & 0xff;
	case 6:
		return NV_CLASS_M2MF + below(4) * 0x40;  /* classes, near misses */
	default:
		return rnd();
	}
}

static void bind_all(struct tchan *ch)
{
	pb_bind(ch, NV_SUBC_COMPUTE, NV_CLASS_COMPUTE);
	pb_bind(ch, NV_SUBC_M2MF, NV_CLASS_M2MF);
	pb_bind(ch, NV_SUBC_PCOPY, NV_CLASS_PCOPY);
}

static void random_stream(struct fchan *fc, unsigned words)
{
	struct tchan *ch = fc->ch;
	static const uint32_t ops[4] = { NV_PB_OP_INC, NV_PB_OP_NONINC, NV_PB_OP_IMMD,
					 NV_PB_OP_INC_ONCE };
	unsigned start = ch->pb_pos;
	while ((ch->pb_pos - start) / 4 < words) {
		unsigned k = below(200);
		if (k < 3) {
			pb_word(ch, rnd());
			continue;
		}
		uint32_t op = k < 6 ? below(8) : ops[below(4)];
		unsigned k2 = below(20);
		unsigned subc = k2 < 18 ? 1 + below(3) : k2 < 19 ? 0 : below(8);
		uint32_t mthd = below(10) < 7 ? known_methods[below(N_KNOWN)] : (rnd() & 0x7ffc);
		if (op == NV_PB_OP_IMMD) {
			pb_hdr(ch, op, subc, mthd, fuzz_data(fc) & 0x1fff);
			continue;
		}
		uint32_t count = below(9);
		pb_hdr(ch, op, subc, mthd, count);
		for (uint32_t i = 0; i < count; i++)
			pb_word(ch, fuzz_data(fc));
	}
}

/* Get the channel back to a clean, bound state whatever happened to it. */
static void restore(struct tdev *t, struct fchan *fc)
{
	struct tchan *ch = fc->ch;
	wr32(t, NV_PFIFO_CHAN_INST(ch->chid), 0);   /* aborts a running kernel */
	if (!wait_reg(t, NV_PGRAPH_STATUS, 0xffffffff, 0, WEDGE_MS)) {
		wedged = true;
		fail_msg("ch%u: engine still busy %u ms after unbinding", ch->chid, WEDGE_MS);
	}
	tchan_recover(ch);
	wr32(t, NV_PFIFO_CHAN_CTRL(ch->chid), 0x001f0000 | NV_CHAN_CTRL_RUNNABLE);
	bind_all(ch);
	if (!tchan_sync(ch)) {
		wedged = true;
		fail_msg("ch%u: no progress after re-binding (ctrl %#x)", ch->chid, tchan_ctrl(ch));
	}
}

static void test_fuzz_pushbuffers(void **state)
{
	struct tdev *t = *state;
	rng = 0x5eed0002;
	struct fchan fc[2];
	for (unsigned i = 0; i < 2; i++) {
		fc[i].ch = tchan_start(t, 40 + i);
		fc[i].scratch = tchan_buf(fc[i].ch, 64 << 10);
		bind_all(fc[i].ch);
		assert_true(tchan_sync(fc[i].ch));
	}
	struct gpusim_stats s0 = tdev_stats(t);
	unsigned stopped = 0, stuck = 0, completed = 0;
	for (unsigned round = 0; round < 1000; round++) {
		struct fchan *f = &fc[round & 1];
		struct tchan *ch = f->ch;
		/* Everything before was consumed (synced or dropped): reuse the buffer. */
		ch->pb_pos = ch->pb_start = 0;
		random_stream(f, 4 + below(60));
		if (below(10) == 0) {
			ch->pb_start = ch->pb_pos;
			uint32_t e1 = rnd();
			if (below(2))
				e1 &= ~(NV_GP_LEN_MASK << NV_GP_LEN_SHIFT);   /* zero length */
			tchan_gp_raw(ch, below(2) ? rnd() : (uint32_t)ch->pb.va, e1);
		} else {
			tchan_submit(ch);
		}
		uint32_t seq = ++ch->fence_seq;
		pb_sem_release(ch, ch->fence.va, seq, true);
		tchan_submit(ch);
		uint64_t end = now_ns() + 20ull * 1000000ull;
		bool done = false, faulted = false;
		for (unsigned i = 0; !done && !faulted && now_ns() < end; i++) {
			done = vram_rd32(t, ch->fence.phys) == seq;
			faulted = tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED;
			poll_pause(i);
		}
		completed += done;
		if (getenv("FUZZ_DEBUG") && !done)
			fprintf(stderr, "round %u: ctrl %#x pbdma %#x info %#x\n", round, tchan_ctrl(ch),
				rd32(t, NV_PBDMA_INTR), rd32(t, NV_PBDMA_ERR_INFO));
		wr32(t, NV_PBDMA_INTR, 0xffffffff);
		bool rebind = below(8) == 0;    /* drawn always: the stream must not depend on timing */
		if (!done) {
			stopped += faulted;
			stuck += !faulted;
			restore(t, f);
		} else if (rebind) {
			/* Random streams may unbind subchannels or leave odd state: rebind. */
			bind_all(ch);
			assert_true(tchan_sync(ch));
		}
		if ((round & 63) == 63)
			assert_int_equal(rd32(t, NV_PMC_BOOT0), NV_PMC_BOOT0_GF100);
	}
	struct gpusim_stats s1 = tdev_stats(t);
	fprintf(stderr, "pushbuffer fuzz: %llu methods, %u rounds completed, %u channel stops, "
		"%u stuck, %llu faults, %llu PBDMA errors, %llu launches\n",
		(unsigned long long)(s1.methods - s0.methods), completed, stopped, stuck,
		(unsigned long long)(s1.faults - s0.faults),
		(unsigned long long)(s1.pbdma_errors - s0.pbdma_errors),
		(unsigned long long)(s1.launches - s0.launches));
	assert_true(s1.methods - s0.methods > 1000);
	assert_true(stopped > 0);
	assert_true(completed > 0);
	/* Both fuzzed channels still work, and so does a fresh one. */
	for (unsigned i = 0; i < 2; i++) {
		restore(t, &fc[i]);
		tchan_free(fc[i].ch);
	}
	reinit(t, rd32(t, NV_PMC_ENABLE));
	check_alive(t, 42);
}

/* ---- 3. Random page tables ------------------------------------------------ */

/*
 * Random mappings point into a sandbox of VRAM (or nowhere useful), so that
 * random GPU writes scribble over nothing the test itself depends on.
 */
static struct tbuf sandbox;

static uint64_t random_pte(void)
{
	uint64_t pte = rnd64();
	if (below(4))
		pte = nv_pte_vram(sandbox.phys + ((rnd64() % sandbox.size) & ~0x1ffffull), below(4) == 0) |
		      (below(8) == 0 ? (uint64_t)below(4) << NV_PTE_APER_SHIFT : 0) |
		      ((uint64_t)(rnd() & 0xff) << NV_PTE_KIND_SHIFT);
	else if (below(2))
		pte |= NV_PTE_VALID;
	return pte;
}

/* A VM whose directory holds random PDEs, some pointing at random tables. */
static struct tvm *random_vm(struct tdev *t, unsigned npde)
{
	struct tvm *vm = tvm_new(t);
	for (unsigned n = 0; n < npde; n++) {
		unsigned i = below(8) ? below(8) : below(NV_PDE_COUNT);
		uint32_t lo, hi;
		if (below(4)) {
			uint64_t spt = vram_alloc(t, NV_SPT_SIZE, 4096);
			uint64_t lpt = vram_alloc(t, NV_LPT_SIZE, 4096);
			for (unsigned k = 0; k < 64; k++) {
				vram_wr64(t, spt + below(NV_SPT_ENTRIES) * 8ull, random_pte());
				vram_wr64(t, lpt + below(NV_LPT_ENTRIES) * 8ull, random_pte());
			}
			/* Dense near the start so that nearby addresses hit mappings. */
			for (unsigned k = 0; k < 64; k++)
				vram_wr64(t, spt + k * 8ull, random_pte());
			lo = below(3) ? nv_pde_word(lpt, NV_APER_VRAM) : 0;
			hi = below(3) ? nv_pde_word(spt, NV_APER_VRAM) : 0;
		} else {
			lo = rnd();
			hi = rnd();
		}
		vram_wr32(t, vm->pd + i * 8ull, lo);
		vram_wr32(t, vm->pd + i * 8ull + 4, hi);
	}
	return vm;
}

static uint64_t random_va(void)
{
	switch (below(4)) {
	case 0: return rnd64() & (NV_VA_LIMIT - 1);
	case 1: return (uint64_t)below(8) << NV_PDE_SHIFT | (below(64) << NV_SPAGE_SHIFT) | (rnd() & 0xffc);
	default: return (uint64_t)below(8) << NV_PDE_SHIFT | (rnd() & (NV_LPT_ENTRIES * NV_LPAGE_SIZE - 1));
	}
}

static void test_fuzz_page_tables(void **state)
{
	struct tdev *t = *state;
	rng = 0x5eed0003;
	sandbox.size = 16 << 20;
	sandbox.phys = vram_alloc(t, sandbox.size, NV_LPAGE_SIZE);
	struct tvm *vm1 = random_vm(t, 24), *vm3 = random_vm(t, 24);
	tdev_bind_bar(t, GPU_BAR1, vm1, below(2) ? GPUSIM_DEFAULT_BAR1 - 1 : rnd());
	tdev_bind_bar(t, GPU_BAR3, vm3, GPUSIM_DEFAULT_BAR3 - 1);
	static uint8_t buf[8192];
	for (unsigned i = 0; i < 3000; i++) {
		enum gpu_bar bar = below(2) ? GPU_BAR1 : GPU_BAR3;
		uint64_t size = t->hw->ops->bar_size(t->hw, bar);
		uint64_t off = below(2) ? rnd64() % size : random_va() % size;
		size_t len = 1 + below(below(4) ? 64 : sizeof(buf));
		if (below(3) == 0) {
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd();
			gpu_bar_write(t->hw, bar, off, buf, len);
		} else {
			gpu_bar_read(t->hw, bar, off, buf, len);
		}
		if (below(64) == 0)
			assert_true(tvm_flush(t, below(2) ? vm1 : vm3));
	}

	/* A channel working through a random VM: its ring and pushbuffer live in a
	 * PDE of their own; its semaphores and copies go to random addresses. */
	struct tvm *cvm = random_vm(t, 16);
	struct tchan *ch = tchan_new_opt(t, 3, cvm, T_GP_ORDER);
	assert_true(tdev_runlist_set(t, 3, true));
	bind_all(ch);
	assert_true(tchan_sync(ch));
	unsigned stopped = 0;
	for (unsigned round = 0; round < 200; round++) {
		ch->pb_pos = ch->pb_start = 0;
		for (unsigned k = 0; k < 4; k++) {
			uint64_t a = random_va(), b = random_va();
			switch (below(4)) {
			case 0:
				pb_sem_release(ch, a & ~0xfull, rnd(), below(2));
				break;
			case 1:
				pb_sem_acquire(ch, a & ~3ull, rnd(), NV906F_SEM_ACQUIRE_GEQ);
				break;
			default: {
				/* Bounded copies: M2MF or PCOPY between random addresses. */
				uint32_t len = 1 + below(3 * 4096), lines = 1 + below(4);
				if (below(2)) {
					uint32_t d[2] = { (uint32_t)(a >> 32), (uint32_t)a };
					pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, d, 2);
					uint32_t s[6] = { (uint32_t)(b >> 32), (uint32_t)b, len, len, len, lines };
					pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_IN_HI, s, 6);
					pb_mthd(ch, NV_SUBC_M2MF, NV9039_EXEC,
						NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR);
				} else {
					uint32_t d[8] = { (uint32_t)(b >> 32), (uint32_t)b, (uint32_t)(a >> 32),
							  (uint32_t)a, len, len, len, lines };
					pb_mthds(ch, NV_SUBC_PCOPY, NV90B5_OFFSET_IN_HI, d, 8);
					pb_mthd(ch, NV_SUBC_PCOPY, NV90B5_LAUNCH,
						NV90B5_LAUNCH_SRC_LINEAR | NV90B5_LAUNCH_DST_LINEAR);
				}
			}
			}
		}
		tchan_submit(ch);
		uint32_t seq = ++ch->fence_seq;
		pb_sem_release(ch, ch->fence.va, seq, true);
		tchan_submit(ch);
		uint64_t end = now_ns() + 20ull * 1000000ull;
		bool done = false, faulted = false;
		for (unsigned i = 0; !done && !faulted && now_ns() < end; i++) {
			done = vram_rd32(t, ch->fence.phys) == seq;
			faulted = tchan_ctrl(ch) & NV_CHAN_CTRL_FAULTED;
			poll_pause(i);
		}
		if (!done) {
			stopped++;
			struct fchan fc = { .ch = ch };
			restore(t, &fc);
		}
		if (below(16) == 0)
			assert_true(tvm_flush(t, cvm));
	}
	assert_true(stopped > 0);
	tchan_free(ch);
	tvm_free(cvm);
	tvm_free(vm1);
	tvm_free(vm3);
	reinit(t, rd32(t, NV_PMC_ENABLE));
	check_alive(t, 4);
}

/* ---- 4. A hostile but well-formed copy ----------------------------------- */

/*
 * A channel asks for 2^32 - 1 lines of 4 KiB (pitch 0) inside one mapped page:
 * about 16 TiB of copying.  The driver gives up on it and unbinds it; the
 * GPU must then serve a fresh channel (Gdev never asks for more than 2047
 * lines, NV9039_MAX_LINES).
 */
static void hostile_copy(struct tdev *t, bool pcopy)
{
	struct tchan *ch = tchan_start(t, 60);
	struct tbuf b = tchan_buf(ch, 4096);
	bind_all(ch);
	if (pcopy) {
		uint32_t d[8] = { (uint32_t)(b.va >> 32), (uint32_t)b.va, (uint32_t)(b.va >> 32),
				  (uint32_t)b.va, 0, 0, 4096, 0xffffffff };
		pb_mthds(ch, NV_SUBC_PCOPY, NV90B5_OFFSET_IN_HI, d, 8);
		pb_mthd(ch, NV_SUBC_PCOPY, NV90B5_LAUNCH,
			NV90B5_LAUNCH_SRC_LINEAR | NV90B5_LAUNCH_DST_LINEAR);
	} else {
		uint32_t o[2] = { (uint32_t)(b.va >> 32), (uint32_t)b.va };
		pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, o, 2);
		uint32_t i[6] = { (uint32_t)(b.va >> 32), (uint32_t)b.va, 0, 0, 4096, 0xffffffff };
		pb_mthds(ch, NV_SUBC_M2MF, NV9039_OFFSET_IN_HI, i, 6);
		pb_mthd(ch, NV_SUBC_M2MF, NV9039_EXEC, NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR);
	}
	tchan_submit(ch);
	/* Let it start (it may also refuse the request, which is fine). */
	(void)wait_reg(t, NV_PGRAPH_STATUS, 0xffffffff, 0xffffffff, 50);
	wr32(t, NV_PFIFO_CHAN_INST(ch->chid), 0);
	struct tchan *fresh = tchan_start(t, 61);
	struct tbuf sem = tchan_buf(fresh, 4096);
	pb_sem_release(fresh, sem.va, 1, true);
	tchan_submit(fresh);
	if (!wait_vram32(t, sem.phys, 1, WEDGE_MS)) {
		wedged = true;
		fail_msg("%s copy of 0xffffffff lines: GPU still busy (0x400700 = %#x) %u ms after "
			 "unbinding the channel; a fresh channel never ran", pcopy ? "PCOPY" : "M2MF",
			 rd32(t, NV_PGRAPH_STATUS), WEDGE_MS);
	}
	tchan_free(fresh);
	tchan_free(ch);
}

static void test_hostile_copy_m2mf(void **state)
{
	hostile_copy(*state, false);
}

static void test_hostile_copy_pcopy(void **state)
{
	hostile_copy(*state, true);
}

static int fuzz_setup(void **state)
{
	wedged = false;
	return tdev_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fuzz_registers, fuzz_setup, fuzz_teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_pushbuffers, fuzz_setup, fuzz_teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_page_tables, fuzz_setup, fuzz_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_copy_m2mf, fuzz_setup, fuzz_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_copy_pcopy, fuzz_setup, fuzz_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
