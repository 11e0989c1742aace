/*
 * Hostile and broken guests, end to end.
 *
 *   flood        a guest speaking the raw ioreq protocol sends a stream of
 *                random accesses (registers it has and has not, garbage
 *                offsets, odd sizes, addresses outside every BAR, unmapped
 *                BAR1/BAR3 pages, and malformed requests: PIO, data
 *                pointers, rep counts, bad sizes, page-crossing) while two
 *                other VMs run workloads, which must verify and finish.
 *   killed       a guest SIGKILLed while its kernel runs on the GPU, and one
 *                killed in the middle of a stream of submissions: its vGPU
 *                is reset (channels freed, partition scrubbed: a new guest
 *                finds zeroed memory where the old one had its data) and
 *                the other VMs' workloads, queued behind the kernel, verify.
 *   double       a second guest for a vGPU that has one is refused with a
 *                clear error (and so are unknown and malformed names); the
 *                first guest is not disturbed.
 *
 * Each ends with the isolation checker clean.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpuvm_local.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_e2e.h"
#include "util_eguest.h"

#define VRAM_MIB  64

static int setup(void **state)
{
	struct e2e_daemon *d = e2e_start();

	e2e_create(d, "evil", VRAM_MIB, 8);
	e2e_create(d, "vm1", VRAM_MIB, 8);
	e2e_create(d, "vm2", VRAM_MIB, 8);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	e2e_stop(*state);
	return 0;
}

/* "local:NAME@PATH" -> name, path. */
static void split_spec(struct e2e_io *io, char *name, size_t nlen, char *path, size_t plen)
{
	const char *at = strchr(io->spec, '@');

	E2E_CHECK(io, !strncmp(io->spec, "local:", 6) && at, "spec %s", io->spec);
	snprintf(name, nlen, "%.*s", (int)(at - io->spec - 6), io->spec + 6);
	snprintf(path, plen, "%s", at + 1);
}

/* ---- flood ------------------------------------------------------------------------- */

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Registers the vGPU does have: writing garbage there exercises its handlers. */
static const uint32_t real_regs[] = {
	NV_PMC_ENABLE, NV_PMC_INTR_EN, NV_PBUS_PRAMIN_BASE, NV_PBUS_BAR1_INST, NV_PBUS_BAR3_INST,
	NV_PBUS_PEEPHOLE_INST, NV_PFIFO_INTR, NV_PFIFO_INTR_EN, NV_PFIFO_ENABLE, NV_PFIFO_USERD_BASE,
	NV_PFIFO_RUNLIST_BASE, NV_PFIFO_RUNLIST_SUBMIT, NV_PFIFO_PREEMPT, NV_PFIFO_FAULT_UNITS,
	NV_MMU_CTRL, NV_MMU_FLUSH_PD, NV_MMU_FLUSH_TRIGGER, NV_BAR_FLUSH, NV_PGRAPH_INTR,
	NV_PGRAPH_INTR_EN, NV_PBDMA_INTR, NV_PBDMA_INTR_EN,
};

/*
 * One request written straight into the ioreq page, with fields the library
 * never produces.  The daemon must answer it (a read: all ones) without
 * calling the vGPU.  Returns the answer's data word.
 */
static uint64_t raw_request(struct e2e_io *io, struct gpuvm_local_client *c, uint64_t addr,
			    uint32_t size, uint32_t count, unsigned type, bool ptr, unsigned dir)
{
	uint64_t *w = gpuvm_local_req_words(c->page), words[GPUVM_LOCAL_WORDS], ctl, one = 1, drain;
	struct gpuvm_ioreq r;
	struct timespec t0, t;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.data = 0x5a5a5a5a5a5a5a5aull;
	r.count = count;
	r.size = size;
	r.state = GPUVM_STATE_IOREQ_READY;
	r.data_is_ptr = ptr;
	r.dir = dir;
	r.type = (uint8_t)type;
	memcpy(words, &r, sizeof(words));
	__atomic_store_n(&w[0], words[0], __ATOMIC_RELAXED);
	__atomic_store_n(&w[1], words[1], __ATOMIC_RELAXED);
	__atomic_store_n(&w[2], words[2], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], words[3], __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->page->server_sleeping, __ATOMIC_RELAXED) &&
	    write(c->fd[1], &one, sizeof(one)) < 0) {
		/* a saturated counter still wakes the daemon */
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0;; i++) {
		ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
		if (gpuvm_local_ctl_state(ctl) == GPUVM_STATE_IORESP_READY)
			break;
		if (i < 64) {
			sched_yield();
			continue;
		}
		/* Sleep as the protocol says: flag, fence, look again, poll. */
		__atomic_store_n(&c->page->guest_sleeping, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
		if (gpuvm_local_ctl_state(ctl) != GPUVM_STATE_IORESP_READY) {
			struct pollfd pf = { .fd = c->fd[2], .events = POLLIN };

			poll(&pf, 1, 100);
			while (read(c->fd[2], &drain, sizeof(drain)) == (ssize_t)sizeof(drain))
				;
		}
		__atomic_store_n(&c->page->guest_sleeping, 0, __ATOMIC_RELAXED);
		clock_gettime(CLOCK_MONOTONIC, &t);
		E2E_CHECK(io, t.tv_sec - t0.tv_sec < E2E_WAIT_MS / 1000, "malformed request never answered");
	}
	words[1] = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], gpuvm_local_ctl_with_state(ctl, GPUVM_STATE_IOREQ_NONE), __ATOMIC_RELEASE);
	return words[1];
}

struct flood_args {
	uint64_t min_ops, max_ops;
};

static int flooder(struct e2e_io *io, void *arg)
{
	const struct flood_args *fa = arg;
	struct gpuvm_local_client c;
	char name[64], path[256], err[256];
	uint64_t seed = 0x9e3779b97f4a7c15ull, ops = 0, malformed = 0, v;
	const char *line;
	int rc;

	split_spec(io, name, sizeof(name), path, sizeof(path));
	memset(&c, 0, sizeof(c));
	c.timeout_ms = E2E_GUEST_TIMEOUT_MS;
	rc = gpuvm_local_connect(&c, path, name, err, sizeof(err));
	E2E_CHECK(io, rc == 0, "connect: %s", err);
	e2e_say(io, "flooding");
	for (;; ops++) {
		uint64_t r = rng(&seed), val = rng(&seed), addr;
		unsigned kind = (unsigned)(r % 100), size = 4, dir = (r >> 8) & 1 ? GPUVM_IOREQ_READ : GPUVM_IOREQ_WRITE;

		if ((ops & 1023) == 0 && ops >= fa->min_ops && (line = e2e_heard(io))) {
			E2E_CHECK(io, !strcmp(line, "stop"), "unexpected '%s'", line);
			break;
		}
		if (ops >= fa->max_ops)
			break;
		if (kind < 40) {            /* anywhere in BAR0, mostly writes */
			addr = GPUVM_LOCAL_BAR0_BASE + ((r >> 16) % c.info.bar_size[0] & ~3ull);
			dir = kind < 30 ? GPUVM_IOREQ_WRITE : GPUVM_IOREQ_READ;
		} else if (kind < 60) {     /* registers the vGPU has */
			addr = GPUVM_LOCAL_BAR0_BASE + real_regs[(r >> 16) % (sizeof(real_regs) / 4)];
			if ((r >> 24) % 4 == 0)
				addr = GPUVM_LOCAL_BAR0_BASE + NV_PFIFO_CHAN_INST((r >> 32) % NV_PFIFO_CHANNELS) + ((r >> 40) & 4);
			else if ((r >> 24) % 4 == 1)
				addr = GPUVM_LOCAL_BAR0_BASE + NV_PRAMIN_WINDOW + ((r >> 32) % NV_PRAMIN_WINDOW_SIZE & ~3ull);
			dir = GPUVM_IOREQ_WRITE;
		} else if (kind < 70) {     /* odd sizes and alignment in BAR0 */
			static const unsigned sizes[] = { 1, 2, 8 };

			size = sizes[(r >> 16) % 3];
			addr = GPUVM_LOCAL_BAR0_BASE + ((r >> 20) % c.info.bar_size[0]);
			if (addr + size > GPUVM_LOCAL_BAR0_BASE + c.info.bar_size[0] || ((addr + size - 1) ^ addr) >> 12)
				addr &= ~7ull;
		} else if (kind < 80) {     /* outside every BAR */
			addr = val;
		} else if (kind < 92) {     /* BAR1 and BAR3, nothing mapped there */
			unsigned bar = (r >> 16) & 1 ? 1 : 3;

			addr = gpuvm_local_bar_base(bar) + ((r >> 20) % c.info.bar_size[bar] & ~7ull);
			size = 8;
		} else {                    /* malformed: the daemon answers without the vGPU */
			static const struct { uint32_t size, count; unsigned type; bool ptr; } bad[] = {
				{ 4, 1, GPUVM_IOREQ_TYPE_PIO, false },
				{ 4, 1, GPUVM_IOREQ_TYPE_PCI_CONFIG, false },
				{ 4, 1, 0x7f, false },
				{ 4, 1, GPUVM_IOREQ_TYPE_COPY, true },
				{ 4, 2, GPUVM_IOREQ_TYPE_COPY, false },
				{ 3, 1, GPUVM_IOREQ_TYPE_COPY, false },
				{ 16, 1, GPUVM_IOREQ_TYPE_COPY, false },
				{ 0, 1, GPUVM_IOREQ_TYPE_COPY, false },
			};
			unsigned b = (unsigned)((r >> 16) % (sizeof(bad) / sizeof(bad[0])));

			v = raw_request(io, &c, GPUVM_LOCAL_BAR0_BASE + NV_PMC_BOOT0, bad[b].size, bad[b].count,
					bad[b].type, bad[b].ptr, GPUVM_IOREQ_READ);
			E2E_CHECK(io, v == (bad[b].size == 4 ? 0xffffffffull : ~0ull),
				  "malformed request %u answered 0x%" PRIx64, b, v);
			/* A read crossing a page boundary inside BAR0. */
			v = raw_request(io, &c, GPUVM_LOCAL_BAR0_BASE + 0x1ffe, 4, 1, GPUVM_IOREQ_TYPE_COPY, false,
					GPUVM_IOREQ_READ);
			E2E_CHECK(io, v == 0xffffffffull, "page-crossing read answered 0x%" PRIx64, v);
			malformed += 2;
			continue;
		}
		v = val;
		rc = gpuvm_local_io(&c, addr, size, dir, &v);
		E2E_CHECK(io, rc == 0, "the link died after %" PRIu64 " requests: %d", ops, rc);
	}
	/* Still a GF100 on a live link. */
	v = 0;
	E2E_CHECK(io, gpuvm_local_io(&c, GPUVM_LOCAL_BAR0_BASE + NV_PMC_BOOT0, 4, GPUVM_IOREQ_READ, &v) == 0 &&
		  v == NV_PMC_BOOT0_GF100, "BOOT0 reads 0x%" PRIx64 " after the flood", v);
	e2e_say(io, "flooded %" PRIu64 " %" PRIu64, ops, malformed);
	e2e_hear_exact(io, "exit");
	gpuvm_local_disconnect(&c);
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void test_mmio_flood_while_others_work(void **state)
{
	struct e2e_daemon *d = *state;
	/* GPUVM_E2E_FLOOD sets an exact count (e.g. 1000000); by default the
	 * flood lasts as long as the other VMs' work, and at least 100000. */
	uint64_t fixed = env_u64("GPUVM_E2E_FLOOD", 0);
	struct flood_args fa = { fixed ? fixed : 100000, fixed ? fixed : 2000000 };
	struct e2e_proc *flood, *w[3];
	struct e2e_info in;
	uint64_t ops = 0, malformed = 0;
	char *line;

	flood = e2e_fork(d, "evil", "flooder", flooder, &fa);
	free(e2e_expect(flood, "flooding"));
	w[0] = e2e_run(d, "vm1", "mmul", "128", 2, 0);
	w[1] = e2e_run(d, "vm2", "vadd", "262144", 2, 0);
	for (unsigned i = 0; i < 2; i++)
		e2e_expect_verified(w[i]);
	w[2] = e2e_run(d, "vm1", "memcpy", "4M", 0, 0);
	e2e_expect_verified(w[2]);
	e2e_send(flood, "stop");
	line = e2e_expect(flood, "flooded");
	assert_int_equal(sscanf(line, "%" SCNu64 " %" SCNu64, &ops, &malformed), 2);
	free(line);
	print_message("flood: %" PRIu64 " requests to vGPU evil, %" PRIu64 " of them malformed\n", ops, malformed);
	assert_true(ops >= fa.min_ops);
	/* With the flooder still attached (whatever it bound), everything is isolated. */
	e2e_info(d, "evil", &in);
	assert_true(in.denied > ops / 4);
	e2e_assert_isolated(d);
	for (unsigned i = 0; i < 2; i++) {
		e2e_info(d, i ? "vm2" : "vm1", &in);
		assert_int_equal(in.denied, 0);
		assert_int_equal(in.faults, 0);
	}
	e2e_send(flood, "exit");
	e2e_expect_exit(flood, 0);
	e2e_wait_detached(d, "evil");
	e2e_assert_isolated(d);
	/* The flooded vGPU serves its next guest normally. */
	e2e_expect_verified(e2e_run(d, "evil", "vadd", "65536", 0, 0));
	e2e_assert_isolated(d);
}

/* ---- killed guests ------------------------------------------------------------------- */

#define DATA_BYTES (64u << 10)

/*
 * A guest that leaves data in VRAM, starts a kernel that never ends, and
 * says where everything is: "running DATA FLAG INST PD USERD" (guest
 * physical), then waits to be killed.
 */
static int doomed_guest(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx = eg_ctx(io);
	struct gpuvm_module *spin = eg_spin_kernel(io, ctx);
	struct gpuvm_ctx_layout lay;
	struct gpuvm_launch l = { 0 };
	uint8_t *data = malloc(DATA_BYTES);
	uint64_t prm, data_phys, flag_phys;
	gpuvm_devptr buf, flag;

	(void)arg;
	E2E_CHECK(io, data != NULL, "out of memory");
	eg_fill(data, DATA_BYTES, 77);
	EG_OK(io, gpuvm_mem_alloc(ctx, DATA_BYTES, &buf));
	EG_OK(io, gpuvm_memcpy_htod(ctx, buf, data, DATA_BYTES));
	EG_OK(io, gpuvm_mem_alloc(ctx, 4096, &flag));
	EG_OK(io, gpuvm_ctx_synchronize(ctx));
	EG_OK(io, gpuvm_raw_ctx_phys(ctx, buf, &data_phys));
	EG_OK(io, gpuvm_raw_ctx_phys(ctx, flag, &flag_phys));
	EG_OK(io, gpuvm_raw_ctx_layout(ctx, &lay));
	prm = flag;
	l.params = &prm;
	l.param_bytes = sizeof(prm);
	EG_OK(io, gpuvm_launch(spin, &l));
	/* Each look is one trapped PRAMIN read, so this loop is paced by the trap. */
	for (unsigned i = 0; eg_rd32(io, eg_dev(ctx), flag_phys) != 1; i++)
		E2E_CHECK(io, i < 10000000, "the kernel never started");
	e2e_say(io, "running %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64,
		data_phys, flag_phys, lay.inst, lay.pd, lay.userd);
	e2e_hear(io);       /* never comes: the test kills us */
	return 1;
}

/*
 * The next guest of the vGPU: reads (without bringing the device up, so
 * nothing of its own is written first) the places the old guest used, and
 * a word every 1 MiB of the partition; all must be zero.  Then it works.
 */
static int inspector(struct e2e_io *io, void *arg)
{
	struct gpuvm_device *dev;
	struct gpuvm_ctx *ctx;
	uint64_t at[5], size;
	uint32_t buf[1024];
	const char *line = e2e_hear(io);
	unsigned checked = 0;

	(void)arg;
	if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
		   &at[0], &at[1], &at[2], &at[3], &at[4]) != 5)
		e2e_die(io, __FILE__, __LINE__, "bad line '%s'", line);
	EG_OK(io, gpuvm_device_open(io->spec, &dev));
	size = gpuvm_raw_vram_size(dev);
	for (uint64_t off = 0; off < DATA_BYTES; off += sizeof(buf)) {
		EG_OK(io, gpuvm_raw_vram_read(dev, at[0] + off, buf, sizeof(buf)));
		for (unsigned i = 0; i < 1024; i++, checked++)
			E2E_CHECK(io, buf[i] == 0, "old data at 0x%" PRIx64 ": 0x%08x", at[0] + off + i * 4, buf[i]);
	}
	for (unsigned k = 1; k < 5; k++) {
		EG_OK(io, gpuvm_raw_vram_read(dev, at[k], buf, 1024));
		for (unsigned i = 0; i < 256; i++, checked++)
			E2E_CHECK(io, buf[i] == 0, "old structure %u at 0x%" PRIx64 ": 0x%08x", k,
				  at[k] + i * 4, buf[i]);
	}
	for (uint64_t a = 0; a < size; a += 1 << 20, checked++) {
		EG_OK(io, gpuvm_raw_vram_read(dev, a + 0x8000, buf, 4));
		E2E_CHECK(io, buf[0] == 0, "VRAM 0x%" PRIx64 " not scrubbed: 0x%08x", a + 0x8000, buf[0]);
	}
	EG_OK(io, gpuvm_ctx_create(dev, &(struct gpuvm_ctx_options){ .timeout_ms = E2E_GUEST_TIMEOUT_MS }, &ctx));
	EG_OK(io, eg_workload(ctx, "vadd", 65536));
	EG_OK(io, gpuvm_ctx_destroy(ctx));
	gpuvm_device_close(dev);
	e2e_say(io, "zeroed %u", checked);
	return 0;
}

static void inspect(struct e2e_daemon *d, const char *where)
{
	struct e2e_proc *p = e2e_fork(d, "evil", "inspector", inspector, NULL);

	e2e_send(p, "%s", where);
	free(e2e_expect(p, "zeroed"));
	e2e_expect_exit(p, 0);
}

static void test_guest_killed_while_its_kernel_runs(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_info in;

	/* Twice: the second time, the vGPU and the other VMs have been through it once. */
	for (unsigned round = 0; round < 2; round++) {
		struct e2e_proc *doomed, *w1, *w2;
		char *where;

		doomed = e2e_fork(d, "evil", "doomed", doomed_guest, NULL);
		where = e2e_expect(doomed, "running");
		/* Their work queues behind the kernel that holds the GPU. */
		w1 = e2e_run(d, "vm1", "vadd", "65536", 0, 0);
		w2 = e2e_run(d, "vm2", "madd", "128", 0, 0);
		e2e_kill(doomed);
		e2e_wait_detached(d, "evil");
		e2e_info(d, "evil", &in);
		assert_int_equal(in.channels_bound, 0);
		e2e_expect_verified(w1);
		e2e_expect_verified(w2);
		e2e_assert_isolated(d);
		inspect(d, where);
		free(where);
		e2e_assert_isolated(d);
		/* And a new guest on another VM, after all that, is fine too. */
		e2e_expect_verified(e2e_run(d, round ? "vm1" : "vm2", "mmul", "64", 0, 0));
	}
	for (unsigned i = 0; i < 2; i++) {
		e2e_info(d, i ? "vm2" : "vm1", &in);
		assert_int_equal(in.faults, 0);
		assert_int_equal(in.denied, 0);
	}
	e2e_assert_isolated(d);
}

static bool busy_submitting(const struct e2e_info *in, void *arg)
{
	return in->attached && in->submissions >= *(const uint64_t *)arg;
}

static void test_guest_killed_in_a_stream_of_submissions(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *victim, *w;
	uint64_t enough = 24;
	struct e2e_info in;

	/* A long stream of copies; killed once it is well under way. */
	victim = e2e_run(d, "evil", "memcpy", "1M", 1000, 0);
	w = e2e_run(d, "vm1", "mmul", "128", 2, 0);
	e2e_wait_info(d, "evil", busy_submitting, &enough, "a stream of submissions");
	e2e_kill(victim);
	e2e_wait_detached(d, "evil");
	e2e_info(d, "evil", &in);
	assert_int_equal(in.channels_bound, 0);
	e2e_expect_verified(w);
	e2e_assert_isolated(d);
	/* Nothing of it left: the first data buffer lies above the driver's first 64 KiB. */
	inspect(d, "10000 10000 10000 10000 10000");
	e2e_expect_verified(e2e_run(d, "vm2", "vadd", "65536", 0, 0));
	e2e_assert_isolated(d);
}

/* ---- a second guest ---------------------------------------------------------------------- */

static int holder(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx = eg_ctx(io);

	(void)arg;
	e2e_say(io, "attached");
	e2e_hear_exact(io, "go");
	EG_OK(io, eg_workload(ctx, "vadd", 65536));
	EG_OK(io, gpuvm_ctx_destroy(ctx));
	e2e_say(io, "still fine");
	return 0;
}

/* Raw attach attempts: "NAME EXPECTED_STATUS SUBSTRING" per line of the test. */
static int prober(struct e2e_io *io, void *arg)
{
	char name[64], path[256], err[256], want_name[64], want_msg[64];
	int want_rc;

	(void)arg;
	split_spec(io, name, sizeof(name), path, sizeof(path));
	for (;;) {
		const char *line = e2e_hear(io);
		struct gpuvm_local_client c;
		int rc;

		if (!strcmp(line, "done"))
			break;
		if (sscanf(line, "%63s %d %63[^\n]", want_name, &want_rc, want_msg) != 3)
			e2e_die(io, __FILE__, __LINE__, "bad line '%s'", line);
		memset(&c, 0, sizeof(c));
		err[0] = '\0';
		rc = gpuvm_local_connect(&c, path, !strcmp(want_name, "-") ? "" : want_name, err, sizeof(err));
		if (rc == 0)
			gpuvm_local_disconnect(&c);
		E2E_CHECK(io, rc == want_rc, "attach '%s': %d (%s), expected %d", want_name, rc, err, want_rc);
		E2E_CHECK(io, strstr(err, want_msg), "attach '%s': message '%s' lacks '%s'", want_name, err, want_msg);
		e2e_say(io, "ok %s", err);
	}
	return 0;
}

static void test_second_guest_is_refused(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *first, *second, *probe;
	struct e2e_info in;
	char *out;

	first = e2e_fork(d, "evil", "holder", holder, NULL);
	free(e2e_expect(first, "attached"));

	/* The guest tool says why, and fails. */
	second = e2e_run(d, "evil", "vadd", "1024", 0, 0);
	e2e_expect_exit(second, 1);
	out = e2e_output(second);
	if (!strstr(out, "already has a guest"))
		fail_msg("unclear refusal:\n%s", out);
	free(out);

	/* The protocol says why: busy, unknown, malformed. */
	probe = e2e_fork(d, "evil", "prober", prober, NULL);
	e2e_send(probe, "evil %d already has a guest", -EBUSY);
	free(e2e_expect(probe, "ok"));
	e2e_send(probe, "nosuch %d no vGPU named", -ENOENT);
	free(e2e_expect(probe, "ok"));
	e2e_send(probe, "bad/name %d invalid", -EINVAL);
	free(e2e_expect(probe, "ok"));
	e2e_send(probe, "done");
	e2e_expect_exit(probe, 0);

	/* The first guest never noticed. */
	e2e_info(d, "evil", &in);
	assert_true(in.attached);
	assert_int_equal(in.channels_bound, 1);
	e2e_send(first, "go");
	free(e2e_expect(first, "still fine"));
	e2e_expect_exit(first, 0);
	e2e_wait_detached(d, "evil");
	/* Now a second guest is welcome. */
	e2e_expect_verified(e2e_run(d, "evil", "vadd", "1024", 0, 0));
	e2e_assert_isolated(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mmio_flood_while_others_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_killed_while_its_kernel_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_killed_in_a_stream_of_submissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_guest_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("e2e: hostile and broken guests", tests, NULL, NULL);
}
