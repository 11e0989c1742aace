/*
 * The local backend's per-vGPU server thread (see local_server.h and
 * docs/local-backend.md for the protocol on the page).
 *
 * Memory ordering on the page: the guest writes words 0-2 of the ioreq and
 * publishes them with a release store of word 3 (state READY); the thread
 * acquires word 3, copies the request out once, writes the result into
 * word 1 and publishes it with a release store of word 3 (IORESP_READY).
 * Sleeping uses the classic flag protocol: a side that wants to block
 * stores its flag, issues a full fence, and re-reads the state; a side
 * that publishes a state issues a full fence and then reads the other's
 * flag, signalling its eventfd only when it is set.  One of the two always
 * sees the other, so no wake-up is lost and no syscall is made while the
 * peer is spinning.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "local_server.h"

struct local_server {
	struct local_server_config cfg;
	char name[16];
	struct gpuvm_local_page *page;
	int fd_page, fd_to_server, fd_to_guest;
	pthread_t thread;
	bool running;           /* thread created and not joined (owner's view) */
	int stop;               /* atomic: set by local_server_stop */
	int gone;               /* atomic: the thread ended because the guest left */
	struct local_server_stats stats;   /* written by the thread only, read relaxed */
};

static const char *const deny_names[LOCAL_DENY_NR] = {
	[LOCAL_IO_OK] = "ok",
	[LOCAL_DENY_TYPE] = "not an MMIO request",
	[LOCAL_DENY_PTR] = "data_is_ptr",
	[LOCAL_DENY_COUNT] = "rep count != 1",
	[LOCAL_DENY_SIZE] = "bad size",
	[LOCAL_DENY_ADDR] = "outside the BARs",
	[LOCAL_DENY_CROSS] = "crosses a page",
};

const char *local_deny_name(enum local_deny why)
{
	return (unsigned)why < LOCAL_DENY_NR ? deny_names[why] : "?";
}

uint64_t local_deny_value(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 ? (1ull << (8 * size)) - 1 : ~0ull;
}

/* Does [addr, addr + size) start in BAR bar?  Sets *off; *fits if it also ends there. */
static bool bar_hit(uint64_t addr, uint32_t size, unsigned bar, uint64_t bar_size,
		    uint64_t *off, bool *fits)
{
	uint64_t base = gpuvm_local_bar_base(bar);

	if (bar_size > GPUVM_LOCAL_BAR_WINDOW)
		bar_size = GPUVM_LOCAL_BAR_WINDOW;
	if (addr < base || addr - base >= bar_size)
		return false;
	*off = addr - base;
	*fits = size <= bar_size - *off;
	return true;
}

enum local_deny local_ioreq_decode(const struct gpuvm_ioreq *req, const uint64_t bar_size[4],
				   struct vgpu_io *io)
{
	uint32_t size = req->size;
	uint64_t off = 0;
	bool fits = false;
	unsigned bar;

	if (req->type != GPUVM_IOREQ_TYPE_COPY)
		return LOCAL_DENY_TYPE;
	if (req->data_is_ptr)
		return LOCAL_DENY_PTR;
	if (req->count != 1)
		return LOCAL_DENY_COUNT;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return LOCAL_DENY_SIZE;
	if (bar_hit(req->addr, size, 0, bar_size[0], &off, &fits))
		bar = 0;
	else if (bar_hit(req->addr, size, 1, bar_size[1], &off, &fits))
		bar = 1;
	else if (bar_hit(req->addr, size, 3, bar_size[3], &off, &fits))
		bar = 3;
	else
		return LOCAL_DENY_ADDR;
	if (!fits)
		return LOCAL_DENY_ADDR;
	if ((off & (GPUVM_LOCAL_PAGE_SIZE - 1)) + size > GPUVM_LOCAL_PAGE_SIZE)
		return LOCAL_DENY_CROSS;
	io->bar = (uint8_t)bar;
	io->dir = req->dir ? VGPU_IO_READ : VGPU_IO_WRITE;
	io->size = (uint8_t)size;
	io->offset = off;
	io->data = io->dir == VGPU_IO_WRITE ? req->data & local_deny_value(size) : 0;
	return LOCAL_IO_OK;
}

unsigned local_spin_budget(unsigned want_ns)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2)
		return 0;
	return want_ns;
}

#define LOCAL_SPIN_YIELD_NS 2000u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Single-writer counters: a relaxed load and store, no locked instruction. */
#define STAT_INC(s, field) \
	__atomic_store_n(&(s)->stats.field, __atomic_load_n(&(s)->stats.field, __ATOMIC_RELAXED) + 1, \
			 __ATOMIC_RELAXED)

static void server_signal_guest(struct local_server *s)
{
	uint64_t one = 1;

	/* Non-blocking eventfd: EAGAIN means the counter is saturated, i.e.
	 * the guest has a wake-up pending anyway. */
	if (write(s->fd_to_guest, &one, sizeof(one)) == (ssize_t)sizeof(one))
		STAT_INC(s, notifies);
}

/* Take the READY request whose control word is ctl and answer it. */
static void server_handle(struct local_server *s, uint64_t ctl)
{
	uint64_t *w = gpuvm_local_req_words(s->page);
	uint64_t words[GPUVM_LOCAL_WORDS];
	struct gpuvm_ioreq req;
	struct vgpu_io io;
	enum local_deny why;

	/* The one copy: everything below looks only at req. */
	words[0] = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
	words[1] = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	words[2] = __atomic_load_n(&w[2], __ATOMIC_RELAXED);
	words[3] = ctl;
	gpuvm_local_req_from_words(&req, words);
	__atomic_store_n(&w[3], gpuvm_local_ctl_with_state(ctl, GPUVM_STATE_IOREQ_INPROCESS),
			 __ATOMIC_RELAXED);
	STAT_INC(s, requests);

	why = local_ioreq_decode(&req, s->cfg.bar_size, &io);
	if (why == LOCAL_IO_OK) {
		if (io.dir == VGPU_IO_READ)
			STAT_INC(s, reads);
		else
			STAT_INC(s, writes);
		s->cfg.mmio(s->cfg.mmio_arg, &io);
		if (io.dir == VGPU_IO_READ)
			__atomic_store_n(&w[1], io.data & local_deny_value(io.size), __ATOMIC_RELAXED);
	} else {
		STAT_INC(s, denied);
		STAT_INC(s, deny[why]);
		if (req.dir == GPUVM_IOREQ_READ)
			__atomic_store_n(&w[1], local_deny_value(req.size), __ATOMIC_RELAXED);
	}
	__atomic_store_n(&w[3], gpuvm_local_ctl_with_state(ctl, GPUVM_STATE_IORESP_READY),
			 __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->page->guest_sleeping, __ATOMIC_RELAXED))
		server_signal_guest(s);
}

static bool server_stopping(const struct local_server *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) != 0;
}

static bool ctl_ready(uint64_t ctl)
{
	return gpuvm_local_ctl_state(ctl) == GPUVM_STATE_IOREQ_READY;
}

/*
 * Spin for up to spin_ns waiting for a request or a stop.  After the first
 * LOCAL_SPIN_YIELD_NS the spin yields the CPU between looks, so that on a
 * machine with more runnable threads than CPUs it does not keep the guest
 * (which it is waiting for) off the CPU.
 */
static bool server_spin(struct local_server *s, uint64_t *ctl)
{
	uint64_t *w = gpuvm_local_req_words(s->page);
	uint64_t start = 0;

	if (!s->cfg.spin_ns)
		return false;
	for (unsigned i = 0;; i++) {
		*ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
		if (ctl_ready(*ctl))
			return true;
		if ((i & 63) == 0) {
			uint64_t t = now_ns();

			if (server_stopping(s))
				return false;
			if (!start)
				start = t;
			else if (t - start >= s->cfg.spin_ns)
				return false;
			else if (t - start >= LOCAL_SPIN_YIELD_NS)
				sched_yield();
		}
		cpu_relax();
	}
}

/* The connection has something: junk from the guest, or its end.  True if gone. */
static bool server_conn_gone(struct local_server *s)
{
	char buf[256];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(s->cfg.sock, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			STAT_INC(s, junk);
			continue;
		}
		if (n == 0)
			return true;
		if (errno == EINTR)
			continue;
		return errno != EAGAIN && errno != EWOULDBLOCK;
	}
	return false;
}

/*
 * Block until the guest signals, its connection changes, or a stop.
 * Returns false when the guest is gone.
 */
static bool server_sleep(struct local_server *s)
{
	struct pollfd pfd[2] = {
		{ .fd = s->fd_to_server, .events = POLLIN },
		{ .fd = s->cfg.sock, .events = POLLIN | POLLRDHUP },
	};
	uint64_t *w = gpuvm_local_req_words(s->page);
	uint64_t drain;
	int n;

	__atomic_store_n(&s->page->server_sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ctl_ready(__atomic_load_n(&w[3], __ATOMIC_ACQUIRE)) || server_stopping(s)) {
		__atomic_store_n(&s->page->server_sleeping, 0, __ATOMIC_RELAXED);
		return true;
	}
	STAT_INC(s, sleeps);
	n = poll(pfd, 2, -1);
	__atomic_store_n(&s->page->server_sleeping, 0, __ATOMIC_RELAXED);
	if (n < 0)
		return true;    /* EINTR: look again */
	if (pfd[0].revents & POLLIN)
		while (read(s->fd_to_server, &drain, sizeof(drain)) == (ssize_t)sizeof(drain))
			;
	if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL))
		return false;
	if (pfd[1].revents & (POLLIN | POLLRDHUP))
		return !server_conn_gone(s);
	return true;
}

static void *server_main(void *arg)
{
	struct local_server *s = arg;
	uint64_t *w = gpuvm_local_req_words(s->page);

	while (!server_stopping(s)) {
		uint64_t ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
		unsigned state = gpuvm_local_ctl_state(ctl);

		if (state == GPUVM_STATE_IOREQ_READY || server_spin(s, &ctl)) {
			server_handle(s, ctl);
			continue;
		}
		if (server_stopping(s))
			break;
		/*
		 * Only the guest's own states (NONE, READY) and our last answer
		 * (IORESP_READY, not yet taken) are expected here.
		 */
		state = gpuvm_local_ctl_state(ctl);
		if (state != GPUVM_STATE_IOREQ_NONE && state != GPUVM_STATE_IORESP_READY)
			STAT_INC(s, bad_state);
		if (!server_sleep(s)) {
			if (server_stopping(s))
				break;
			__atomic_store_n(&s->gone, 1, __ATOMIC_RELEASE);
			if (s->cfg.on_guest_gone)
				s->cfg.on_guest_gone(s->cfg.gone_arg);
			break;
		}
	}
	return NULL;
}

static int server_make_page(struct local_server *s)
{
	void *p;

	s->fd_page = memfd_create("gpuvm-ioreq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd_page < 0)
		return -errno;
	if (ftruncate(s->fd_page, GPUVM_LOCAL_PAGE_SIZE) < 0)
		return -errno;
	p = mmap(NULL, GPUVM_LOCAL_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd_page, 0);
	if (p == MAP_FAILED)
		return -errno;
	s->page = p;
	/* The guest may not resize the page under our mapping (SIGBUS here). */
	if (fcntl(s->fd_page, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	return 0;
}

int local_server_create(const struct local_server_config *cfg, struct local_server **out)
{
	struct local_server *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (!cfg->mmio || cfg->sock < 0) {
		free(s);
		return -EINVAL;
	}
	s->cfg = *cfg;
	s->cfg.name = NULL;
	snprintf(s->name, sizeof(s->name), "gl-%s", cfg->name ? cfg->name : "vgpu");
	s->fd_page = s->fd_to_server = s->fd_to_guest = -1;
	err = server_make_page(s);
	if (!err) {
		s->fd_to_server = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		s->fd_to_guest = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->fd_to_server < 0 || s->fd_to_guest < 0)
			err = -errno;
	}
	if (!err) {
		err = -pthread_create(&s->thread, NULL, server_main, s);
		if (!err) {
			s->running = true;
			pthread_setname_np(s->thread, s->name);
		}
	}
	if (err) {
		local_server_destroy(s);
		return err;
	}
	*out = s;
	return 0;
}

void local_server_fds(const struct local_server *s, int fds[3])
{
	fds[GPUVM_LOCAL_FD_IOREQ] = s->fd_page;
	fds[GPUVM_LOCAL_FD_TO_SERVER] = s->fd_to_server;
	fds[GPUVM_LOCAL_FD_TO_GUEST] = s->fd_to_guest;
}

void local_server_stop(struct local_server *s)
{
	uint64_t one = 1;

	if (!s || !s->running)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	/*
	 * The eventfd is shared with the guest, which could drain it before
	 * the thread wakes; the shutdown of the connection is ours alone and
	 * always wakes the poll.
	 */
	if (write(s->fd_to_server, &one, sizeof(one)) < 0) {
		/* saturated: already readable */
	}
	shutdown(s->cfg.sock, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	s->running = false;
}

bool local_server_guest_gone(const struct local_server *s)
{
	return __atomic_load_n(&s->gone, __ATOMIC_ACQUIRE) != 0;
}

void local_server_destroy(struct local_server *s)
{
	if (!s)
		return;
	local_server_stop(s);
	if (s->page)
		munmap(s->page, GPUVM_LOCAL_PAGE_SIZE);
	if (s->fd_page >= 0)
		close(s->fd_page);
	if (s->fd_to_server >= 0)
		close(s->fd_to_server);
	if (s->fd_to_guest >= 0)
		close(s->fd_to_guest);
	free(s);
}

void local_server_get_stats(const struct local_server *s, struct local_server_stats *out)
{
	const uint64_t *src = (const uint64_t *)&s->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
