/*
 * The local backend's server thread on its own: a socketpair stands for the
 * guest's connection and the guest side is driven in this process, through
 * the client (gpuvm_local_io) or by writing the ioreq page directly.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvm_local.h"
#include "local_server.h"
#include "nvc0/regs.h"

#define RIG_BYTES 0x10000u

struct rig {
	int sp[2];                      /* [0] the server's end, [1] the guest's */
	struct local_server *s;
	struct gpuvm_local_client c;
	uint8_t regs[RIG_BYTES];        /* BAR0 [0, RIG_BYTES) */
	uint64_t calls;                 /* atomic */
	int gone_fd;                    /* on_guest_gone writes here */
	int block;                      /* atomic: next access blocks */
	int entered_fd, release_fd;
};

static void rig_mmio(void *arg, struct vgpu_io *io)
{
	struct rig *r = arg;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&r->block, 0, __ATOMIC_ACQ_REL)) {
		struct pollfd p = { .fd = r->release_fd, .events = POLLIN };
		uint64_t one = 1, x;

		assert_int_equal(write(r->entered_fd, &one, sizeof(one)), sizeof(one));
		if (poll(&p, 1, 10000) == 1)
			assert_int_equal(read(r->release_fd, &x, sizeof(x)), sizeof(x));
	}
	if (io->bar != 0 || io->offset + io->size > RIG_BYTES) {
		if (io->dir == VGPU_IO_READ)
			io->data = 0x5a5a5a5a5a5a5a5aull;
		return;
	}
	if (io->dir == VGPU_IO_READ) {
		io->data = 0;
		memcpy(&io->data, r->regs + io->offset, io->size);
	} else {
		memcpy(r->regs + io->offset, &io->data, io->size);
	}
}

static void rig_gone(void *arg)
{
	struct rig *r = arg;
	uint64_t one = 1;

	assert_int_equal(write(r->gone_fd, &one, sizeof(one)), sizeof(one));
}

static bool wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static struct rig *rig_start(unsigned server_spin, unsigned guest_spin)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct local_server_config cfg;
	int fds[3];
	void *p;

	assert_non_null(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->sp), 0);
	r->gone_fd = eventfd(0, EFD_CLOEXEC);
	r->entered_fd = eventfd(0, EFD_CLOEXEC);
	r->release_fd = eventfd(0, EFD_CLOEXEC);
	memset(&cfg, 0, sizeof(cfg));
	cfg.sock = r->sp[0];
	cfg.bar_size[0] = NV_BAR0_SIZE;
	cfg.bar_size[1] = 1u << 20;
	cfg.bar_size[3] = 64u << 10;
	cfg.mmio = rig_mmio;
	cfg.mmio_arg = r;
	cfg.on_guest_gone = rig_gone;
	cfg.gone_arg = r;
	cfg.spin_ns = server_spin;
	cfg.name = "rig";
	assert_int_equal(local_server_create(&cfg, &r->s), 0);
	local_server_fds(r->s, fds);

	/* The guest side, as gpuvm_local_connect() would set it up. */
	memset(&r->c, 0, sizeof(r->c));
	pthread_mutex_init(&r->c.lock, NULL);
	p = mmap(NULL, GPUVM_LOCAL_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	assert_true(p != MAP_FAILED);
	r->c.page = p;
	r->c.fd[0] = -1;
	r->c.fd[1] = dup(fds[1]);
	r->c.fd[2] = dup(fds[2]);
	r->c.sock = r->sp[1];
	r->c.timeout_ms = 5000;
	r->c.spin_ns = guest_spin;
	r->c.info.bar_size[0] = NV_BAR0_SIZE;
	return r;
}

static void rig_stop(struct rig *r)
{
	local_server_destroy(r->s);
	if (r->c.page)
		gpuvm_local_disconnect(&r->c);
	else if (r->sp[1] >= 0)
		close(r->sp[1]);
	close(r->sp[0]);
	close(r->gone_fd);
	close(r->entered_fd);
	close(r->release_fd);
	free(r);
}

static uint64_t rd(struct rig *r, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	assert_int_equal(gpuvm_local_io(&r->c, GPUVM_LOCAL_BAR0_BASE + off, size, GPUVM_IOREQ_READ,
					&v), 0);
	return v;
}

static void wr(struct rig *r, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(gpuvm_local_io(&r->c, GPUVM_LOCAL_BAR0_BASE + off, size,
					GPUVM_IOREQ_WRITE, &v), 0);
}

static void roundtrips(struct rig *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t off = (i * 8) % RIG_BYTES;
		uint64_t v = 0x0123456789abcdefull * (i + 1);

		wr(r, off, 8, v);
		assert_int_equal(rd(r, off, 8), v);
		assert_int_equal(rd(r, off, 4), v & 0xffffffffu);
		assert_int_equal(rd(r, off + 4, 2), (v >> 32) & 0xffff);
		assert_int_equal(rd(r, off + 7, 1), v >> 56);
	}
}

static void test_roundtrip_spinning(void **state)
{
	struct rig *r = rig_start(200000, 200000);
	struct local_server_stats st;

	(void)state;
	roundtrips(r, 2000);
	local_server_get_stats(r->s, &st);
	assert_int_equal(st.writes, 2000);
	assert_int_equal(st.reads, 8000);
	assert_int_equal(st.denied, 0);
	assert_int_equal(st.bad_state, 0);
	assert_int_equal(__atomic_load_n(&r->calls, __ATOMIC_RELAXED), 10000);
	rig_stop(r);
}

/* No spinning at all: every request and answer crosses the eventfds. */
static void test_roundtrip_sleeping(void **state)
{
	struct rig *r = rig_start(0, 0);
	struct local_server_stats st;

	(void)state;
	roundtrips(r, 500);
	local_server_get_stats(r->s, &st);
	assert_int_equal(st.requests, 2500);
	assert_true(st.sleeps > 0);
	assert_true(r->c.notifies > 0);
	assert_true(r->c.sleeps > 0);
	rig_stop(r);
}

/* Spinning on one side only, both ways round. */
static void test_roundtrip_mixed(void **state)
{
	struct rig *r = rig_start(0, 100000);

	(void)state;
	roundtrips(r, 300);
	rig_stop(r);
	r = rig_start(100000, 0);
	roundtrips(r, 300);
	rig_stop(r);
}

struct hammer {
	struct rig *r;
	unsigned base;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	for (unsigned i = 0; i < 2000; i++) {
		uint64_t off = h->base + (i % 64) * 4;

		wr(h->r, off, 4, i ^ h->base);
		assert_int_equal(rd(h->r, off, 4), i ^ h->base);
	}
	return NULL;
}

/* Several guest threads share the one ioreq slot (the client serialises). */
static void test_threads_share_the_slot(void **state)
{
	struct rig *r = rig_start(50000, 50000);
	struct hammer h[3];
	pthread_t t[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		h[i].r = r;
		h[i].base = 0x1000u * (unsigned)(i + 1);
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	rig_stop(r);
}

/* ---- raw requests, as a hostile guest writes them -------------------------------- */
static void raw_store(struct rig *r, const struct gpuvm_ioreq *req)
{
	uint64_t *w = gpuvm_local_req_words(r->c.page), words[4], one = 1;

	memcpy(words, req, sizeof(words));
	for (int i = 0; i < 3; i++)
		__atomic_store_n(&w[i], words[i], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], words[3], __ATOMIC_RELEASE);
	assert_int_equal(write(r->c.fd[1], &one, sizeof(one)), sizeof(one));
}

/* Send a raw READY request; wait (bounded) for the answer; return data. */
static uint64_t raw_request(struct rig *r, struct gpuvm_ioreq req)
{
	uint64_t *w = gpuvm_local_req_words(r->c.page), ctl, data;
	int rounds = 0;

	req.state = GPUVM_STATE_IOREQ_READY;
	raw_store(r, &req);
	for (;;) {
		__atomic_store_n(&r->c.page->guest_sleeping, 1, __ATOMIC_SEQ_CST);
		ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
		if (gpuvm_local_ctl_state(ctl) == GPUVM_STATE_IORESP_READY)
			break;
		assert_true(rounds++ < 100);
		if (wait_fd(r->c.fd[2], 100)) {
			uint64_t x;

			assert_int_equal(read(r->c.fd[2], &x, sizeof(x)), sizeof(x));
		}
	}
	__atomic_store_n(&r->c.page->guest_sleeping, 0, __ATOMIC_SEQ_CST);
	data = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], gpuvm_local_ctl_with_state(ctl, GPUVM_STATE_IOREQ_NONE),
			 __ATOMIC_RELEASE);
	return data;
}

static struct gpuvm_ioreq req_of(uint64_t addr, uint32_t size, unsigned dir, uint64_t data)
{
	struct gpuvm_ioreq q;

	memset(&q, 0, sizeof(q));
	q.addr = addr;
	q.size = size;
	q.count = 1;
	q.dir = dir;
	q.data = data;
	q.type = GPUVM_IOREQ_TYPE_COPY;
	return q;
}

static void test_denied_requests(void **state)
{
	struct rig *r = rig_start(0, 0);
	struct local_server_stats st;
	struct gpuvm_ioreq q;

	(void)state;
	wr(r, 0x100, 4, 0xcafe);
	/* Bad size, read: all ones, handler not called. */
	q = req_of(GPUVM_LOCAL_BAR0_BASE + 0x100, 3, GPUVM_IOREQ_READ, 0);
	assert_int_equal(raw_request(r, q), ~0ull);
	/* Rep count. */
	q = req_of(GPUVM_LOCAL_BAR0_BASE + 0x100, 4, GPUVM_IOREQ_READ, 0);
	q.count = 16;
	assert_int_equal(raw_request(r, q), 0xffffffffu);
	/* data_is_ptr, write: dropped. */
	q = req_of(GPUVM_LOCAL_BAR0_BASE + 0x100, 4, GPUVM_IOREQ_WRITE, 0x1000);
	q.data_is_ptr = 1;
	raw_request(r, q);
	/* PIO. */
	q = req_of(0xcf8, 4, GPUVM_IOREQ_WRITE, 0x80000000u);
	q.type = GPUVM_IOREQ_TYPE_PIO;
	raw_request(r, q);
	/* Outside the BARs, and across a page. */
	q = req_of(GPUVM_LOCAL_BAR0_BASE + NV_BAR0_SIZE, 8, GPUVM_IOREQ_READ, 0);
	assert_int_equal(raw_request(r, q), ~0ull);
	q = req_of(GPUVM_LOCAL_BAR0_BASE + 0xffc, 8, GPUVM_IOREQ_WRITE, 0);
	raw_request(r, q);
	/* The client path denies the same way (bad size through gpuvm_local_io). */
	{
		uint64_t v = 0;

		assert_int_equal(gpuvm_local_io(&r->c, GPUVM_LOCAL_BAR0_BASE + 0x100, 5,
						GPUVM_IOREQ_READ, &v), 0);
		assert_int_equal(v, ~0ull);
	}
	local_server_get_stats(r->s, &st);
	assert_int_equal(st.denied, 7);
	assert_int_equal(st.deny[LOCAL_DENY_SIZE], 2);
	assert_int_equal(st.deny[LOCAL_DENY_COUNT], 1);
	assert_int_equal(st.deny[LOCAL_DENY_PTR], 1);
	assert_int_equal(st.deny[LOCAL_DENY_TYPE], 1);
	assert_int_equal(st.deny[LOCAL_DENY_ADDR], 1);
	assert_int_equal(st.deny[LOCAL_DENY_CROSS], 1);
	/* Only the first write reached the handler; the register kept its value. */
	assert_int_equal(__atomic_load_n(&r->calls, __ATOMIC_RELAXED), 1);
	assert_int_equal(rd(r, 0x100, 4), 0xcafe);
	rig_stop(r);
}

static bool wait_stat(struct rig *r, size_t field_off, uint64_t want)
{
	for (int i = 0; i < 50000; i++) {
		struct local_server_stats st;
		uint64_t v;

		local_server_get_stats(r->s, &st);
		memcpy(&v, (char *)&st + field_off, sizeof(v));
		if (v >= want)
			return true;
		sched_yield();
		if (i > 1000) {
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
	}
	return false;
}

/* States only the daemon may set, and states that do not exist, are ignored. */
static void test_garbage_states(void **state)
{
	static const unsigned bad[] = { GPUVM_STATE_IOREQ_INPROCESS, 4, 7, 15 };
	struct rig *r = rig_start(0, 0);
	struct gpuvm_ioreq q;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = req_of(GPUVM_LOCAL_BAR0_BASE + 0x40, 4, GPUVM_IOREQ_WRITE, 0xbad);
		q.state = bad[i];
		raw_store(r, &q);
		assert_true(wait_stat(r, offsetof(struct local_server_stats, bad_state), i + 1));
	}
	assert_int_equal(__atomic_load_n(&r->calls, __ATOMIC_RELAXED), 0);
	/* The guest can start over from NONE. */
	q = req_of(0, 0, 0, 0);
	raw_store(r, &q);
	wr(r, 0x40, 4, 0x600d);
	assert_int_equal(rd(r, 0x40, 4), 0x600d);
	rig_stop(r);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random requests: every one is answered, exactly the valid ones reach the handler. */
static void test_fuzzed_requests(void **state)
{
	const uint64_t sizes[4] = { NV_BAR0_SIZE, 1u << 20, 0, 64u << 10 };
	struct rig *r = rig_start(100000, 0);
	struct local_server_stats st;
	uint64_t seed = 0x9e3779b97f4a7c15ull, valid = 0;

	(void)state;
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t words[4];
		struct gpuvm_ioreq q;
		struct vgpu_io io;

		for (int k = 0; k < 4; k++)
			words[k] = xorshift(&seed);
		memcpy(&q, words, sizeof(q));
		/* Bias towards the interesting part of the space. */
		if (i & 1) {
			q.addr = gpuvm_local_bar_base((unsigned)(xorshift(&seed) % 4)) +
				 xorshift(&seed) % (2u << 20);
			q.size = 1u << (xorshift(&seed) % 4);
			q.count = xorshift(&seed) % 8 ? 1 : q.count;
			q.type = xorshift(&seed) % 8 ? GPUVM_IOREQ_TYPE_COPY : q.type;
			q.data_is_ptr = xorshift(&seed) % 8 ? 0 : 1;
		}
		if (local_ioreq_decode(&q, sizes, &io) == LOCAL_IO_OK)
			valid++;
		raw_request(r, q);
	}
	local_server_get_stats(r->s, &st);
	assert_int_equal(st.requests, 20000);
	assert_int_equal(st.reads + st.writes, valid);
	assert_int_equal(st.denied, 20000 - valid);
	assert_int_equal(__atomic_load_n(&r->calls, __ATOMIC_RELAXED), valid);
	assert_true(valid > 1000 && valid < 19000);
	/* Still serving normally. */
	wr(r, 0x80, 4, 0x12345678);
	assert_int_equal(rd(r, 0x80, 4), 0x12345678);
	rig_stop(r);
}

/* The whole page overwritten with junk while the server sleeps and spins. */
static void test_page_scribbled(void **state)
{
	struct rig *r = rig_start(20000, 0);
	uint64_t seed = 12345, one = 1;
	uint64_t *page = (uint64_t *)(void *)r->c.page;

	(void)state;
	for (unsigned i = 0; i < 2000; i++) {
		for (unsigned k = 0; k < GPUVM_LOCAL_PAGE_SIZE / 8; k += 1 + (unsigned)(xorshift(&seed) % 64))
			__atomic_store_n(&page[k], xorshift(&seed), __ATOMIC_RELAXED);
		assert_int_equal(write(r->c.fd[1], &one, sizeof(one)), sizeof(one));
	}
	/*
	 * Reset the page, then wait until the server has gone to sleep after
	 * the reset: any answer to a junk READY request it was writing is done
	 * by then, and the ioreq can be cleared for good.
	 */
	memset(r->c.page, 0, GPUVM_LOCAL_PAGE_SIZE);
	assert_int_equal(write(r->c.fd[1], &one, sizeof(one)), sizeof(one));
	for (int i = 0; !__atomic_load_n(&r->c.page->server_sleeping, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = { 0, 100000 };

		assert_true(i < 100000);
		nanosleep(&ts, NULL);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memset(&r->c.page->req, 0, sizeof(r->c.page->req));
	wr(r, 0x80, 4, 0x77);
	assert_int_equal(rd(r, 0x80, 4), 0x77);
	assert_false(local_server_guest_gone(r->s));
	rig_stop(r);
}

/* ---- stopping and leaving ------------------------------------------------------------ */
static void test_stop_while_sleeping(void **state)
{
	struct rig *r = rig_start(0, 0);
	uint64_t v;

	(void)state;
	wr(r, 0, 4, 1);
	for (int i = 0; !__atomic_load_n(&r->c.page->server_sleeping, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = { 0, 100000 };

		assert_true(i < 100000);
		nanosleep(&ts, NULL);
	}
	local_server_stop(r->s);
	local_server_stop(r->s);        /* idempotent */
	assert_false(local_server_guest_gone(r->s));
	assert_false(wait_fd(r->gone_fd, 0));   /* not "gone": we stopped it */
	/* The guest sees its link end: an error, reads all ones, no hang. */
	assert_int_equal(gpuvm_local_io(&r->c, GPUVM_LOCAL_BAR0_BASE, 4, GPUVM_IOREQ_READ, &v), -EPIPE);
	assert_int_equal(v, ~0ull);
	assert_int_equal(gpuvm_local_io(&r->c, GPUVM_LOCAL_BAR0_BASE, 4, GPUVM_IOREQ_READ, &v), -EPIPE);
	rig_stop(r);
}

static void test_stop_while_spinning(void **state)
{
	struct rig *r = rig_start(2000000000u, 0);     /* would spin for 2 s */

	(void)state;
	wr(r, 0, 4, 1);
	local_server_stop(r->s);
	rig_stop(r);
}

/* A guest that saturates the daemon's eventfd cannot block the stop. */
static void test_stop_with_saturated_eventfd(void **state)
{
	struct rig *r = rig_start(0, 0);
	uint64_t max = 0xfffffffffffffffeull;

	(void)state;
	assert_int_equal(write(r->c.fd[1], &max, sizeof(max)), sizeof(max));
	/* Drain it (unless the server thread already did) and saturate it again. */
	if (read(r->c.fd[1], &max, sizeof(max)) < 0)
		max = 0;
	max = 0xfffffffffffffffeull;
	assert_int_equal(write(r->c.fd[1], &max, sizeof(max)), sizeof(max));
	local_server_stop(r->s);
	rig_stop(r);
}

static void test_guest_gone(void **state)
{
	struct rig *r = rig_start(0, 0);

	(void)state;
	wr(r, 0, 4, 1);
	gpuvm_local_disconnect(&r->c);  /* closes the guest's end of the connection */
	r->c.page = NULL;
	r->sp[1] = -1;
	assert_true(wait_fd(r->gone_fd, 10000));
	assert_true(local_server_guest_gone(r->s));
	rig_stop(r);
}

/* The guest closes its connection while its request is inside the handler. */
static void test_guest_gone_mid_request(void **state)
{
	struct rig *r = rig_start(0, 0);
	struct gpuvm_ioreq q = req_of(GPUVM_LOCAL_BAR0_BASE + 0x10, 4, GPUVM_IOREQ_WRITE, 9);

	(void)state;
	__atomic_store_n(&r->block, 1, __ATOMIC_RELEASE);
	q.state = GPUVM_STATE_IOREQ_READY;
	raw_store(r, &q);
	assert_true(wait_fd(r->entered_fd, 10000));
	close(r->sp[1]);
	r->sp[1] = -1;
	{
		uint64_t one = 1;

		assert_int_equal(write(r->release_fd, &one, sizeof(one)), sizeof(one));
	}
	assert_true(wait_fd(r->gone_fd, 10000));
	assert_true(local_server_guest_gone(r->s));
	munmap(r->c.page, GPUVM_LOCAL_PAGE_SIZE);
	close(r->c.fd[1]);
	close(r->c.fd[2]);
	pthread_mutex_destroy(&r->c.lock);
	r->c.page = NULL;
	rig_stop(r);
}

/* Messages on the connection after the handshake are read and dropped. */
static void test_junk_on_connection(void **state)
{
	struct rig *r = rig_start(0, 0);
	char junk[64];

	(void)state;
	memset(junk, 'j', sizeof(junk));
	for (int i = 0; i < 5; i++)
		assert_int_equal(send(r->sp[1], junk, sizeof(junk), 0), sizeof(junk));
	assert_true(wait_stat(r, offsetof(struct local_server_stats, junk), 5));
	wr(r, 0x20, 4, 0x42);
	assert_int_equal(rd(r, 0x20, 4), 0x42);
	assert_false(local_server_guest_gone(r->s));
	rig_stop(r);
}

/* The page is sealed: the guest cannot shrink it under the daemon. */
static void test_page_sealed(void **state)
{
	struct rig *r = rig_start(0, 0);
	int fds[3];

	(void)state;
	local_server_fds(r->s, fds);
	assert_int_equal(ftruncate(fds[0], 0), -1);
	assert_int_equal(ftruncate(fds[0], 8192), -1);
	wr(r, 0x20, 4, 0x42);
	assert_int_equal(rd(r, 0x20, 4), 0x42);
	rig_stop(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_spinning),
		cmocka_unit_test(test_roundtrip_sleeping),
		cmocka_unit_test(test_roundtrip_mixed),
		cmocka_unit_test(test_threads_share_the_slot),
		cmocka_unit_test(test_denied_requests),
		cmocka_unit_test(test_garbage_states),
		cmocka_unit_test(test_fuzzed_requests),
		cmocka_unit_test(test_page_scribbled),
		cmocka_unit_test(test_stop_while_sleeping),
		cmocka_unit_test(test_stop_while_spinning),
		cmocka_unit_test(test_stop_with_saturated_eventfd),
		cmocka_unit_test(test_guest_gone),
		cmocka_unit_test(test_guest_gone_mid_request),
		cmocka_unit_test(test_junk_on_connection),
		cmocka_unit_test(test_page_sealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
