/*
 * The local transport, "local:NAME[@SOCKET]": a vGPU of gpuvmd reached
 * through its local trap backend (include/gpuvm_local.h,
 * docs/local-backend.md).  Registers and trapped BAR pages cross the shared
 * ioreq page; BAR1/BAR3 pages that the vGPU's remap table marks as mapped
 * are read and written directly in this process's mapping of the VM's VRAM
 * partition, after checking the table entry on every access.
 *
 * One daemon connection per (vGPU, socket) per process, shared by every
 * open (reference counted), since a vGPU takes one guest at a time.  A
 * child forked from a guest is a new process and so a new guest: it never
 * reuses its parent's connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gpuvm_local.h"
#include "nvc0_driver.h"

int gpuvm_transport_open_local(const char *opts, struct gpuvm_transport **out);

#define LOCAL_GUEST_SPIN_NS 20000u
#define LOCAL_GUEST_YIELD_NS 2000u
#define LOCAL_GUEST_BUSY_SPIN_FACTOR 10u   /* spin_ns times this while the daemon works */

/* ---- Client ------------------------------------------------------------------------ */
static uint64_t lc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void lc_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static int lc_error(const struct gpuvm_local_client *c)
{
	return __atomic_load_n(&c->error, __ATOMIC_ACQUIRE);
}

static void lc_set_error(struct gpuvm_local_client *c, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&c->error, &zero, err, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void gpuvm_local_socket_path(const char *at_path, char *out, size_t outlen)
{
	const char *env = getenv(GPUVM_LOCAL_SOCKET_ENV);

	if (at_path && *at_path)
		snprintf(out, outlen, "%s", at_path);
	else if (env && *env)
		snprintf(out, outlen, "%s%s", env, GPUVM_LOCAL_SOCKET_SUFFIX);
	else
		snprintf(out, outlen, "%s", GPUVM_LOCAL_DEFAULT_SOCKET);
}

static unsigned lc_spin_default(void)
{
	const char *env = getenv("GPUVM_LOCAL_SPIN_NS");
	cpu_set_t set;

	if (env && *env)
		return (unsigned)strtoul(env, NULL, 0);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2)
		return 0;
	return LOCAL_GUEST_SPIN_NS;
}

/* $GPUVM_LOCAL_TIMEOUT_MS, else 10 s: how long one request may take. */
static unsigned lc_timeout_default(void)
{
	const char *env = getenv("GPUVM_LOCAL_TIMEOUT_MS");
	unsigned long v = env && *env ? strtoul(env, NULL, 0) : 0;

	return v && v < 3600000ul ? (unsigned)v : GPUVM_LOCAL_DEFAULT_TIMEOUT_MS;
}

/* Has the daemon's end of the connection gone?  Never blocks. */
static bool lc_sock_dead(int sock, short revents)
{
	char b;
	ssize_t n;

	if (revents & (POLLHUP | POLLERR | POLLNVAL))
		return true;
	if (!(revents & (POLLIN | POLLRDHUP)))
		return false;
	n = recv(sock, &b, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int lc_check_reply(const struct gpuvm_local_reply *r, unsigned nfds, char *err, size_t errlen)
{
	uint64_t sum = 0;

	if (r->page_size != GPUVM_LOCAL_PAGE_SIZE || r->ioreq_len != GPUVM_LOCAL_PAGE_SIZE)
		goto bad;
	if (r->bar_base[0] != GPUVM_LOCAL_BAR0_BASE || r->bar_base[1] != GPUVM_LOCAL_BAR1_BASE ||
	    r->bar_base[3] != GPUVM_LOCAL_BAR3_BASE || r->bar_size[2] || !r->bar_size[0])
		goto bad;
	for (int i = 0; i < 4; i++)
		if (r->bar_size[i] > GPUVM_LOCAL_BAR_WINDOW)
			goto bad;
	if (!(r->flags & GPUVM_LOCAL_F_DIRECT)) {
		if (r->nfds != 3 || nfds != 3)
			goto bad;
		return 0;
	}
	if (r->nparts == 0 || r->nparts > GPUVM_LOCAL_MAX_PARTS ||
	    r->nfds != GPUVM_LOCAL_FD_PART0 + r->nparts || nfds != r->nfds)
		goto bad;
	for (unsigned i = 0; i < r->nparts; i++) {
		if (r->part[i].gpa != sum || !r->part[i].len ||
		    (r->part[i].len | r->part[i].fd_off) % GPUVM_LOCAL_PAGE_SIZE)
			goto bad;
		sum += r->part[i].len;
	}
	if (sum != r->vram_size)
		goto bad;
	if ((uint64_t)r->bar1_pages * GPUVM_LOCAL_PAGE_SIZE < r->bar_size[1] ||
	    (uint64_t)r->bar3_pages * GPUVM_LOCAL_PAGE_SIZE < r->bar_size[3] ||
	    r->remap_len < 4ull * ((uint64_t)r->bar1_pages + r->bar3_pages))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "gpuvmd sent an inconsistent attach reply");
	return -EPROTO;
}

static int lc_map_direct(struct gpuvm_local_client *c, const int *fds, char *err, size_t errlen)
{
	const struct gpuvm_local_reply *r = &c->info;
	struct stat st;
	void *p;

	if (fstat(fds[GPUVM_LOCAL_FD_REMAP], &st) < 0 || (uint64_t)st.st_size < r->remap_len)
		goto bad_file;
	p = mmap(NULL, r->remap_len, PROT_READ, MAP_SHARED, fds[GPUVM_LOCAL_FD_REMAP], 0);
	if (p == MAP_FAILED)
		goto map_failed;
	c->remap = p;
	c->remap_map_len = r->remap_len;
	/* Reserve the whole partition, then lay the parts back to back in it. */
	p = mmap(NULL, r->vram_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		goto map_failed;
	c->vram = p;
	for (unsigned i = 0; i < r->nparts; i++) {
		int fd = fds[GPUVM_LOCAL_FD_PART0 + i];

		if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < r->part[i].fd_off + r->part[i].len)
			goto bad_file;
		if (mmap(c->vram + r->part[i].gpa, r->part[i].len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, (off_t)r->part[i].fd_off) == MAP_FAILED)
			goto map_failed;
	}
	return 0;
bad_file:
	snprintf(err, errlen, "gpuvmd sent a BAR mapping file smaller than announced");
	return -EPROTO;
map_failed:
	snprintf(err, errlen, "cannot map the vGPU's BAR pages: %s", strerror(errno));
	return -ENOMEM;
}

static void lc_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Send the hello and take the reply and its fds. */
static int lc_handshake(struct gpuvm_local_client *c, const char *name, int *fds, unsigned *nfds,
			char *err, size_t errlen)
{
	struct gpuvm_local_hello h;
	union {
		char buf[CMSG_SPACE(sizeof(int) * GPUVM_LOCAL_FD_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &c->info, .iov_len = sizeof(c->info) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;

	memset(&h, 0, sizeof(h));
	h.magic = GPUVM_LOCAL_MAGIC;
	h.version = GPUVM_LOCAL_VERSION;
	h.size = sizeof(h);
	snprintf(h.name, sizeof(h.name), "%s", name);
	if (send(c->sock, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
		snprintf(err, errlen, "cannot send to gpuvmd: %s", strerror(errno));
		return -EPIPE;
	}
	do
		n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*nfds < GPUVM_LOCAL_FD_MAX)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n < 0) {
		int e = errno;

		snprintf(err, errlen, "no answer from gpuvmd: %s",
			 e == EAGAIN || e == EWOULDBLOCK ? "timed out" : strerror(e));
		return e == EAGAIN || e == EWOULDBLOCK ? -ETIMEDOUT : -EPIPE;
	}
	if (n == 0) {
		snprintf(err, errlen, "gpuvmd closed the connection without answering");
		return -EPIPE;
	}
	if (n != (ssize_t)sizeof(c->info) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    c->info.magic != GPUVM_LOCAL_MAGIC || c->info.size != sizeof(c->info)) {
		snprintf(err, errlen, "gpuvmd sent a malformed attach reply");
		return -EPROTO;
	}
	c->info.message[sizeof(c->info.message) - 1] = 0;
	if (c->info.status) {
		snprintf(err, errlen, "%s", c->info.message[0] ? c->info.message : "attach refused");
		return c->info.status < 0 ? c->info.status : -EPROTO;
	}
	if (c->info.version != GPUVM_LOCAL_VERSION) {
		snprintf(err, errlen, "gpuvmd speaks protocol version %u, this library %u",
			 (unsigned)c->info.version, GPUVM_LOCAL_VERSION);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int gpuvm_local_connect(struct gpuvm_local_client *c, const char *socket_path, const char *name,
			char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fds[GPUVM_LOCAL_FD_MAX];
	unsigned nfds = 0, timeout_ms;
	struct timeval tv;
	struct stat st;
	void *p;
	int ret;

	timeout_ms = c->timeout_ms ? c->timeout_ms : lc_timeout_default();
	memset(c, 0, sizeof(*c));
	c->sock = c->fd[0] = c->fd[1] = c->fd[2] = -1;
	c->timeout_ms = timeout_ms;
	c->spin_ns = lc_spin_default();
	pthread_mutex_init(&c->lock, NULL);
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", socket_path);
		ret = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		goto fail;
	}
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot reach gpuvmd's guest socket %s: %s%s", socket_path,
			 strerror(-ret), ret == -ENOENT || ret == -ECONNREFUSED ?
			 " (is gpuvmd running with --backend local?)" : "");
		goto fail;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret = lc_handshake(c, name, fds, &nfds, err, errlen);
	if (!ret)
		ret = lc_check_reply(&c->info, nfds, err, errlen);
	if (ret)
		goto fail_fds;
	if (fstat(fds[GPUVM_LOCAL_FD_IOREQ], &st) < 0 || st.st_size < (off_t)GPUVM_LOCAL_PAGE_SIZE) {
		snprintf(err, errlen, "gpuvmd sent an ioreq page file that is too small");
		ret = -EPROTO;
		goto fail_fds;
	}
	p = mmap(NULL, GPUVM_LOCAL_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fds[GPUVM_LOCAL_FD_IOREQ], 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "cannot map the ioreq page: %s", strerror(-ret));
		goto fail_fds;
	}
	c->page = p;
	if (c->info.flags & GPUVM_LOCAL_F_DIRECT) {
		ret = lc_map_direct(c, fds, err, errlen);
		if (ret)
			goto fail_fds;
	}
	/* Keep the eventfds; the mappings hold the files they need. */
	c->fd[1] = fds[GPUVM_LOCAL_FD_TO_SERVER];
	c->fd[2] = fds[GPUVM_LOCAL_FD_TO_GUEST];
	fds[GPUVM_LOCAL_FD_TO_SERVER] = fds[GPUVM_LOCAL_FD_TO_GUEST] = -1;
	lc_close_fds(fds, nfds);
	return 0;

fail_fds:
	lc_close_fds(fds, nfds);
fail:
	gpuvm_local_disconnect(c);
	return ret;
}

void gpuvm_local_disconnect(struct gpuvm_local_client *c)
{
	if (c->vram)
		munmap(c->vram, c->info.vram_size);
	if (c->remap)
		munmap((void *)c->remap, c->remap_map_len);
	if (c->page)
		munmap(c->page, GPUVM_LOCAL_PAGE_SIZE);
	for (int i = 0; i < 3; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	if (c->sock >= 0)
		close(c->sock);
	c->vram = NULL;
	c->remap = NULL;
	c->page = NULL;
	c->sock = c->fd[0] = c->fd[1] = c->fd[2] = -1;
	pthread_mutex_destroy(&c->lock);
}

static bool lc_answered(const uint64_t *w, uint64_t *ctl)
{
	*ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
	return gpuvm_local_ctl_state(*ctl) == GPUVM_STATE_IORESP_READY;
}

/*
 * How long to spin before sleeping.  Once the daemon has taken the request
 * (INPROCESS) it is running for us and answers when its work is done, so
 * the guest keeps spinning (yielding) for longer: a PV batch that binds a
 * channel takes the daemon tens of microseconds, and going to sleep just
 * before its answer costs an eventfd wake-up, ~60 us on a VM.
 */
static uint64_t lc_spin_limit(const struct gpuvm_local_client *c, uint64_t ctl)
{
	if (gpuvm_local_ctl_state(ctl) == GPUVM_STATE_IOREQ_INPROCESS && c->spin_ns)
		return (uint64_t)c->spin_ns * LOCAL_GUEST_BUSY_SPIN_FACTOR;
	return c->spin_ns;
}

/* Wait for IORESP_READY: spin, then sleep on TO_GUEST.  0 or a negative errno. */
static int lc_wait(struct gpuvm_local_client *c, uint64_t *ctl)
{
	uint64_t *w = gpuvm_local_req_words(c->page);
	uint64_t start = 0, deadline;

	if (c->spin_ns) {
		for (unsigned i = 0;; i++) {
			if (lc_answered(w, ctl))
				return 0;
			if ((i & 31) == 0) {
				uint64_t t = lc_now_ns();

				if (!start)
					start = t;
				else if (t - start >= lc_spin_limit(c, *ctl))
					break;
				else if (t - start >= LOCAL_GUEST_YIELD_NS)
					sched_yield();  /* let the daemon run if it shares our CPU */
			}
			lc_relax();
		}
	}
	deadline = lc_now_ns() + (uint64_t)c->timeout_ms * 1000000ull;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = c->fd[2], .events = POLLIN },
			{ .fd = c->sock, .events = POLLIN | POLLRDHUP },
		};
		uint64_t now, drain;
		int n;

		__atomic_store_n(&c->page->guest_sleeping, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (lc_answered(w, ctl)) {
			__atomic_store_n(&c->page->guest_sleeping, 0, __ATOMIC_RELAXED);
			return 0;
		}
		now = lc_now_ns();
		if (now >= deadline) {
			__atomic_store_n(&c->page->guest_sleeping, 0, __ATOMIC_RELAXED);
			return -ETIMEDOUT;
		}
		c->sleeps++;
		n = poll(pfd, 2, (int)((deadline - now + 999999) / 1000000));
		__atomic_store_n(&c->page->guest_sleeping, 0, __ATOMIC_RELAXED);
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			while (read(c->fd[2], &drain, sizeof(drain)) == (ssize_t)sizeof(drain))
				;
		if (lc_sock_dead(c->sock, pfd[1].revents))
			return lc_answered(w, ctl) ? 0 : -EPIPE;
	}
}

int gpuvm_local_io(struct gpuvm_local_client *c, uint64_t addr, unsigned size, unsigned dir,
		   uint64_t *data)
{
	uint64_t *w;
	uint64_t ctl, one = 1;
	struct gpuvm_ioreq r;
	uint64_t words[GPUVM_LOCAL_WORDS];
	int err;

	pthread_mutex_lock(&c->lock);
	err = lc_error(c);
	if (err)
		goto out;
	w = gpuvm_local_req_words(c->page);
	ctl = __atomic_load_n(&w[3], __ATOMIC_ACQUIRE);
	if (gpuvm_local_ctl_state(ctl) != GPUVM_STATE_IOREQ_NONE) {
		err = -EPROTO;          /* someone else wrote the page: give up on it */
		lc_set_error(c, err);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.data = dir == GPUVM_IOREQ_WRITE ? *data : 0;
	r.count = 1;
	r.size = size;
	r.state = GPUVM_STATE_IOREQ_READY;
	r.dir = dir ? 1 : 0;
	r.type = GPUVM_IOREQ_TYPE_COPY;
	memcpy(words, &r, sizeof(words));
	__atomic_store_n(&w[0], words[0], __ATOMIC_RELAXED);
	__atomic_store_n(&w[1], words[1], __ATOMIC_RELAXED);
	__atomic_store_n(&w[2], words[2], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], words[3], __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->page->server_sleeping, __ATOMIC_RELAXED)) {
		c->notifies++;
		if (write(c->fd[1], &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, the daemon has a wake-up pending */
		}
	}
	err = lc_wait(c, &ctl);
	if (err) {
		lc_set_error(c, err);
		goto out;
	}
	if (dir == GPUVM_IOREQ_READ)
		*data = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	__atomic_store_n(&w[3], gpuvm_local_ctl_with_state(ctl, GPUVM_STATE_IOREQ_NONE),
			 __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&c->lock);
	if (err && dir == GPUVM_IOREQ_READ)
		*data = ~0ull;
	return err;
}

/* ---- Transport ------------------------------------------------------------------------ */
struct local_transport {
	struct gpuvm_transport tp;
	struct gpuvm_local_client c;
	char name[GPUVM_LOCAL_NAME_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int refs;
	pid_t pid;              /* the process that connected (a fork child is another guest) */
	struct local_transport *next;
};

static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;
static struct local_transport *local_open_list;

static struct local_transport *local_of(struct gpuvm_transport *t)
{
	return (struct local_transport *)t;
}

static uint32_t local_rd32(struct gpuvm_transport *t, uint32_t reg)
{
	uint64_t v = 0;

	if (gpuvm_local_io(&local_of(t)->c, GPUVM_LOCAL_BAR0_BASE + reg, 4, GPUVM_IOREQ_READ, &v))
		return 0xffffffffu;
	return (uint32_t)v;
}

static void local_wr32(struct gpuvm_transport *t, uint32_t reg, uint32_t val)
{
	uint64_t v = val;

	gpuvm_local_io(&local_of(t)->c, GPUVM_LOCAL_BAR0_BASE + reg, 4, GPUVM_IOREQ_WRITE, &v);
}

static uint64_t local_bar_size(struct gpuvm_transport *t, enum gpuvm_bar bar)
{
	const struct gpuvm_local_client *c = &local_of(t)->c;

	return bar == GPUVM_BAR0 || bar == GPUVM_BAR1 || bar == GPUVM_BAR3 ?
	       c->info.bar_size[bar] : 0;
}

/* The remap entry of the page holding off (read now, never cached); 0 = traps. */
static uint32_t local_remap_entry(const struct gpuvm_local_client *c, enum gpuvm_bar bar, uint64_t off)
{
	if (!c->remap)
		return 0;
	return __atomic_load_n(&c->remap[gpuvm_local_remap_index(bar, off, c->info.bar1_pages)],
			       __ATOMIC_ACQUIRE);
}

/* A pointer to [off, off + len) (within one page) if that page is remapped. */
static uint8_t *local_direct(const struct gpuvm_local_client *c, enum gpuvm_bar bar, uint64_t off,
			     size_t len)
{
	uint32_t e = local_remap_entry(c, bar, off);
	uint64_t g;

	if (!e)
		return NULL;
	g = (uint64_t)(e - 1) * GPUVM_LOCAL_PAGE_SIZE + (off & (GPUVM_LOCAL_PAGE_SIZE - 1));
	if (g >= c->info.vram_size || len > c->info.vram_size - g)
		return NULL;
	return c->vram + g;
}

static int local_bar_check(const struct gpuvm_local_client *c, enum gpuvm_bar bar, uint64_t off,
			   size_t len)
{
	uint64_t size;

	if (bar != GPUVM_BAR1 && bar != GPUVM_BAR3)
		return -EINVAL;
	size = c->info.bar_size[bar];
	return off > size || len > size - off ? -EINVAL : 0;
}

/* Access size for a trapped copy at off with n bytes left: 8 or 4 when aligned. */
static unsigned local_io_size(uint64_t off, size_t n)
{
	if (!(off & 7) && n >= 8)
		return 8;
	if (!(off & 3) && n >= 4)
		return 4;
	if (!(off & 1) && n >= 2)
		return 2;
	return 1;
}

static int local_bar_rw(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			uint8_t *buf, size_t len, bool write)
{
	struct gpuvm_local_client *c = &local_of(t)->c;
	int ret = local_bar_check(c, bar, off, len);

	if (ret)
		return ret;
	while (len) {
		size_t chunk = GPUVM_LOCAL_PAGE_SIZE - (off & (GPUVM_LOCAL_PAGE_SIZE - 1));
		uint8_t *p;

		if (chunk > len)
			chunk = len;
		p = local_direct(c, bar, off, chunk);
		if (p) {
			if (write)
				memcpy(p, buf, chunk);
			else
				memcpy(buf, p, chunk);
		} else {
			for (size_t done = 0; done < chunk;) {
				unsigned sz = local_io_size(off + done, chunk - done);
				uint64_t v = 0;
				int err;

				if (write)
					memcpy(&v, buf + done, sz);
				err = gpuvm_local_io(c, gpuvm_local_bar_base(bar) + off + done, sz,
						     write ? GPUVM_IOREQ_WRITE : GPUVM_IOREQ_READ, &v);
				if (!write)
					memcpy(buf + done, &v, sz);
				if (err && !ret)
					ret = err;
				done += sz;
			}
		}
		off += chunk;
		buf += chunk;
		len -= chunk;
	}
	return ret;
}

static int local_bar_read(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			  void *buf, size_t len)
{
	return local_bar_rw(t, bar, off, buf, len, false);
}

static int local_bar_write(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off,
			   const void *buf, size_t len)
{
	return local_bar_rw(t, bar, off, (uint8_t *)(uintptr_t)buf, len, true);
}

/* Only a range whose pages are all remapped, onto consecutive VRAM pages. */
static void *local_bar_map(struct gpuvm_transport *t, enum gpuvm_bar bar, uint64_t off, size_t len)
{
	const struct gpuvm_local_client *c = &local_of(t)->c;
	uint64_t first = 0, pages;

	if (!c->remap || !len || local_bar_check(c, bar, off, len))
		return NULL;
	pages = ((off & (GPUVM_LOCAL_PAGE_SIZE - 1)) + len + GPUVM_LOCAL_PAGE_SIZE - 1) /
		GPUVM_LOCAL_PAGE_SIZE;
	for (uint64_t i = 0; i < pages; i++) {
		uint32_t e = local_remap_entry(c, bar, off + i * GPUVM_LOCAL_PAGE_SIZE);

		if (!e)
			return NULL;
		if (i == 0)
			first = e - 1ull;
		else if (e - 1ull != first + i)
			return NULL;
	}
	if ((first + pages) * GPUVM_LOCAL_PAGE_SIZE > c->info.vram_size)
		return NULL;
	return c->vram + first * GPUVM_LOCAL_PAGE_SIZE + (off & (GPUVM_LOCAL_PAGE_SIZE - 1));
}

static int local_check(struct gpuvm_transport *t)
{
	struct gpuvm_local_client *c = &local_of(t)->c;
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN | POLLRDHUP };
	int err = lc_error(c);

	if (err)
		return err;
	if (poll(&pfd, 1, 0) > 0 && lc_sock_dead(c->sock, pfd.revents))
		lc_set_error(c, -EPIPE);
	return lc_error(c);
}

static void local_close(struct gpuvm_transport *t)
{
	struct local_transport *l = local_of(t);
	struct local_transport **pp;
	bool last;

	pthread_mutex_lock(&local_lock);
	last = --l->refs == 0;
	if (last)
		for (pp = &local_open_list; *pp; pp = &(*pp)->next)
			if (*pp == l) {
				*pp = l->next;
				break;
			}
	pthread_mutex_unlock(&local_lock);
	if (!last)
		return;
	gpuvm_local_disconnect(&l->c);
	free(l);
}

static const struct gpuvm_transport_ops local_ops = {
	.rd32 = local_rd32,
	.wr32 = local_wr32,
	.bar_read = local_bar_read,
	.bar_write = local_bar_write,
	.bar_size = local_bar_size,
	.bar_map = local_bar_map,
	.pv_call = NULL,
	.check = local_check,
	.close = local_close,
};

static bool local_name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= GPUVM_LOCAL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int local_open_error(int err, const char *spec, const char *msg)
{
	int code;

	switch (err) {
	case -EBUSY:
		code = GPUVM_ERR_BUSY;
		break;
	case -EINVAL:
	case -ENAMETOOLONG:
		code = GPUVM_ERR_INVALID;
		break;
	case -ENOMEM:
		code = GPUVM_ERR_NO_HOST_MEMORY;
		break;
	default:
		code = GPUVM_ERR_NO_DEVICE;
		break;
	}
	return gpuvm_fail(code, "device 'local:%s': %s", spec, msg);
}

static void local_make_id(struct local_transport *l)
{
	uint64_t h = 1469598103934665603ull;

	if (snprintf(l->tp.id, sizeof(l->tp.id), "local:%s@%s", l->name, l->path) <
	    (int)sizeof(l->tp.id))
		return;
	for (const char *p = l->path; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	snprintf(l->tp.id, sizeof(l->tp.id), "local:%s@#%016llx", l->name, (unsigned long long)h);
}

int gpuvm_transport_open_local(const char *opts, struct gpuvm_transport **out)
{
	const char *at = strchr(opts, '@');
	size_t name_len = at ? (size_t)(at - opts) : strlen(opts);
	struct local_transport *l;
	char path[sizeof(l->path)], name[GPUVM_LOCAL_NAME_MAX], err[256];
	int ret;

	if (!local_name_ok(opts, name_len))
		return gpuvm_fail(GPUVM_ERR_INVALID, "device 'local:%s': expected local:NAME[@SOCKET] "
				  "with NAME of 1-%d characters [A-Za-z0-9_.-]", opts,
				  GPUVM_LOCAL_NAME_MAX - 1);
	memcpy(name, opts, name_len);
	name[name_len] = 0;
	if (at && !at[1])
		return gpuvm_fail(GPUVM_ERR_INVALID, "device 'local:%s': empty socket path after '@'",
				  opts);
	if (at && strlen(at + 1) >= sizeof(path))
		return gpuvm_fail(GPUVM_ERR_INVALID, "device 'local:%s': socket path too long", opts);
	gpuvm_local_socket_path(at ? at + 1 : NULL, path, sizeof(path));

	pthread_mutex_lock(&local_lock);
	for (l = local_open_list; l; l = l->next)
		if (l->pid == getpid() && !strcmp(l->name, name) && !strcmp(l->path, path)) {
			l->refs++;
			*out = &l->tp;
			pthread_mutex_unlock(&local_lock);
			return GPUVM_OK;
		}
	l = calloc(1, sizeof(*l));
	if (!l) {
		pthread_mutex_unlock(&local_lock);
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "local transport: out of memory");
	}
	ret = gpuvm_local_connect(&l->c, path, name, err, sizeof(err));
	if (ret) {
		pthread_mutex_unlock(&local_lock);
		free(l);
		return local_open_error(ret, opts, err);
	}
	memcpy(l->name, name, sizeof(name));
	memcpy(l->path, path, sizeof(path));
	l->tp.ops = &local_ops;
	l->tp.kind = "local";
	local_make_id(l);
	l->refs = 1;
	l->pid = getpid();
	l->next = local_open_list;
	local_open_list = l;
	*out = &l->tp;
	pthread_mutex_unlock(&local_lock);
	return GPUVM_OK;
}
