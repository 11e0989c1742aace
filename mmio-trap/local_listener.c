/*
 * The local backend's guest socket and attach handshake (local_listener.h,
 * docs/local-backend.md).
 *
 * Everything here runs on the host's control thread, so the connection
 * list needs no lock; the only other threads are the per-guest servers,
 * which touch nothing of the listener but its event eventfd (to say "my
 * guest is gone").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "local_listener.h"
#include "nvc0/regs.h"

#define LOCAL_DEFAULT_SPIN_NS    50000u
#define LOCAL_DEFAULT_PENDING    32u
#define LOCAL_DEFAULT_MODE       0660u

_Static_assert(GPUVM_LOCAL_MAX_PARTS == VGPU_MAX_PARTS, "part table sizes agree");
_Static_assert(GPUVM_LOCAL_NAME_MAX == VGPU_NAME_MAX, "name sizes agree");

enum conn_phase {
	CONN_HELLO,             /* waiting for the hello; its socket is watched */
	CONN_ATTACHED,          /* a server thread serves it */
};

struct local_conn {
	struct local_conn *next;
	struct local_listener *l;
	int sock;
	enum conn_phase phase;
	void *vgpu;             /* claimed with attach(); NULL before */
	struct local_server *srv;
	bool watched;           /* its socket is watched (waiting for the hello) */
	bool releasing;         /* being dropped: the detach hook must do nothing */
	char name[GPUVM_LOCAL_NAME_MAX];
	pid_t pid;
};

struct local_listener {
	const struct local_host_ops *ops;
	void *host;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ino_t sock_ino;
	int listen_fd;
	int event_fd;           /* servers signal "guest gone" here */
	struct local_conn *conns;
	unsigned pending, attached;
	unsigned spin_ns, max_pending;
	bool warned_direct;
};

static void lsn_log(struct local_listener *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lsn_log(struct local_listener *l, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!l->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l->ops->log(l->host, level, msg);
}

/* ---- connections ------------------------------------------------------------------ */
static void conn_unlink(struct local_conn *c)
{
	struct local_conn **pp = &c->l->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
}

/*
 * Drop a connection.  detach: the guest is gone (or the backend stops), so
 * the vGPU is detached and reset; not when the daemon itself is destroying
 * or resetting the vGPU (the detach hook).
 */
static void conn_release(struct local_conn *c, bool detach)
{
	struct local_listener *l = c->l;

	c->releasing = true;
	if (c->srv) {
		struct local_server_stats st;

		local_server_stop(c->srv);      /* from here on, no more mmio */
		local_server_get_stats(c->srv, &st);
		lsn_log(l, 2, "local: guest pid %d left vGPU %s (%llu requests, %llu denied)",
			(int)c->pid, c->name, (unsigned long long)st.requests,
			(unsigned long long)st.denied);
	}
	if (c->vgpu && detach)
		l->ops->detach(l->host, c->vgpu);
	local_server_destroy(c->srv);
	if (c->watched)
		l->ops->unwatch(l->host, c->sock);
	if (c->phase == CONN_HELLO) {
		l->pending--;
	} else {
		l->attached--;
	}
	close(c->sock);
	conn_unlink(c);
	free(c);
}

/* The vGPU core drops our guest (vGPU destroyed or reset): stop serving it. */
static void conn_detach_hook(void *arg)
{
	struct local_conn *c = arg;

	if (c->releasing)
		return;
	lsn_log(c->l, 2, "local: vGPU %s is being destroyed or reset: dropping guest pid %d",
		c->name, (int)c->pid);
	conn_release(c, false);
}

/* Runs on the server thread: only signal the control thread. */
static void conn_guest_gone(void *arg)
{
	struct local_listener *l = arg;
	uint64_t one = 1;

	if (write(l->event_fd, &one, sizeof(one)) < 0) {
		/* saturated eventfd: a wake-up is pending anyway */
	}
}

static void lsn_reap(struct local_listener *l)
{
	uint64_t v;
	struct local_conn *c, *next;

	while (read(l->event_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	for (c = l->conns; c; c = next) {
		next = c->next;
		if (c->phase == CONN_ATTACHED && local_server_guest_gone(c->srv))
			conn_release(c, true);
	}
}

/* ---- the handshake ------------------------------------------------------------------ */
static void reply_init(struct gpuvm_local_reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_init(struct gpuvm_local_reply *r, int status, const char *fmt, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->magic = GPUVM_LOCAL_MAGIC;
	r->version = GPUVM_LOCAL_VERSION;
	r->size = sizeof(*r);
	r->status = status;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r->message, sizeof(r->message), fmt, ap);
		va_end(ap);
	}
}

static int reply_send(int sock, const struct gpuvm_local_reply *r, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * GPUVM_LOCAL_FD_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)r, .iov_len = sizeof(*r) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*r) ? 0 : -EIO;
}

/* Refuse: send the reason, then drop the connection. */
static void conn_refuse(struct local_conn *c, int status, const char *msg)
{
	struct gpuvm_local_reply r;

	reply_init(&r, status, "%s", msg);
	reply_send(c->sock, &r, NULL, 0);
	lsn_log(c->l, 2, "local: refused guest pid %d: %s", (int)c->pid, msg);
	conn_release(c, true);
}

bool local_name_valid(const char *name, size_t max)
{
	size_t n = strnlen(name, max);

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Add seals (idempotent); true when the fd has them all afterwards. */
static bool seal_fd(int fd, int seals)
{
	int have;

	if (fcntl(fd, F_ADD_SEALS, seals) == 0)
		return true;
	have = fcntl(fd, F_GET_SEALS);
	return have >= 0 && (have & seals) == seals;
}

/*
 * Check the export and make what we hand out safe: the guest must not be
 * able to resize any file the daemon has mapped (its mapping would SIGBUS)
 * nor write the remap table.  Fills the reply's layout; returns true when
 * the direct mappings may be handed out.
 */
static bool export_direct(struct local_conn *c, const struct vgpu_export *ex,
			  struct gpuvm_local_reply *r, const char **why)
{
	uint64_t sum = 0, need_b1, need_b3;
	struct stat st;

	*why = NULL;
	if (ex->nparts == 0 || ex->nparts > GPUVM_LOCAL_MAX_PARTS || ex->remap_fd < 0) {
		*why = "the vGPU exports no partition";
		return false;
	}
	for (unsigned i = 0; i < ex->nparts; i++) {
		if (ex->part[i].fd < 0 || !ex->part[i].len ||
		    (ex->part[i].len | ex->part[i].fd_off) % GPUVM_LOCAL_PAGE_SIZE) {
			*why = "a partition part is not page aligned";
			return false;
		}
		sum += ex->part[i].len;
	}
	if (sum != ex->vram_size) {
		*why = "the partition parts do not add up to its size";
		return false;
	}
	need_b1 = (ex->bar1_size + GPUVM_LOCAL_PAGE_SIZE - 1) / GPUVM_LOCAL_PAGE_SIZE;
	need_b3 = (ex->bar3_size + GPUVM_LOCAL_PAGE_SIZE - 1) / GPUVM_LOCAL_PAGE_SIZE;
	if (ex->bar1_pages < need_b1 || ex->bar3_pages < need_b3) {
		*why = "the remap table does not cover the BARs";
		return false;
	}
	if (fstat(ex->remap_fd, &st) < 0 ||
	    (uint64_t)st.st_size < 4ull * ((uint64_t)ex->bar1_pages + ex->bar3_pages)) {
		*why = "the remap table file is too small";
		return false;
	}
	if (!seal_fd(ex->remap_fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)) {
		*why = "the remap table cannot be sealed read-only (memfd without MFD_ALLOW_SEALING)";
		return false;
	}
	for (unsigned i = 0; i < ex->nparts; i++)
		if (!seal_fd(ex->part[i].fd, F_SEAL_SHRINK | F_SEAL_GROW)) {
			*why = "the partition's backing files cannot be sealed against resizing "
			       "(the GPU must create them with MFD_ALLOW_SEALING)";
			return false;
		}
	for (unsigned i = 0; i < ex->nparts; i++) {
		r->part[i].gpa = i ? r->part[i - 1].gpa + r->part[i - 1].len : 0;
		r->part[i].len = ex->part[i].len;
		r->part[i].fd_off = ex->part[i].fd_off;
	}
	r->nparts = ex->nparts;
	r->remap_len = 4ull * ((uint64_t)ex->bar1_pages + ex->bar3_pages);
	(void)c;
	return true;
}

/* A read-only descriptor of the same file (defence in depth beside the seal). */
static int reopen_read_only(int fd)
{
	char p[64];
	int ro;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ro = open(p, O_RDONLY | O_CLOEXEC);
	return ro >= 0 ? ro : dup(fd);
}

/*
 * Our guest that holds vgpu, if its process has already closed the
 * connection but we have not reaped it yet (it exited a moment ago).
 */
static struct local_conn *conn_gone_holder(struct local_listener *l, void *vgpu)
{
	for (struct local_conn *h = l->conns; h; h = h->next) {
		struct pollfd pfd = { .fd = h->sock, .events = POLLIN | POLLRDHUP };

		if (h->phase != CONN_ATTACHED || h->vgpu != vgpu)
			continue;
		if (local_server_guest_gone(h->srv) ||
		    (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))))
			return h;
	}
	return NULL;
}

static void conn_attach(struct local_conn *c)
{
	struct local_listener *l = c->l;
	struct local_server_config scfg;
	struct gpuvm_local_reply r;
	struct vgpu_export ex;
	int fds[GPUVM_LOCAL_FD_MAX];
	unsigned nfds = 3;
	const char *why;
	char msg[GPUVM_LOCAL_MSG_MAX];
	void *v;
	int err, remap_ro = -1;

	v = l->ops->find(l->host, c->name);
	if (!v) {
		snprintf(msg, sizeof(msg), "no vGPU named %s", c->name);
		conn_refuse(c, -ENOENT, msg);
		return;
	}
	err = l->ops->attach(l->host, v, conn_detach_hook, c);
	if (err == -EBUSY) {
		/* A guest that just left and a new one racing in: finish the old first. */
		struct local_conn *old = conn_gone_holder(l, v);

		if (old) {
			conn_release(old, true);
			err = l->ops->attach(l->host, v, conn_detach_hook, c);
		}
	}
	if (err) {
		if (err == -EBUSY)
			snprintf(msg, sizeof(msg), "vGPU %s already has a guest", c->name);
		else
			snprintf(msg, sizeof(msg), "vGPU %s: cannot attach: %s", c->name, strerror(-err));
		conn_refuse(c, err < 0 ? err : -EIO, msg);
		return;
	}
	c->vgpu = v;
	memset(&ex, 0, sizeof(ex));
	err = l->ops->export_bars(l->host, v, &ex);
	if (err || ex.bar1_size > GPUVM_LOCAL_BAR_WINDOW || ex.bar3_size > GPUVM_LOCAL_BAR_WINDOW) {
		snprintf(msg, sizeof(msg), "vGPU %s: cannot export its BARs: %s", c->name,
			 err ? strerror(err < 0 ? -err : err) : "BAR too large");
		conn_refuse(c, -EIO, msg);
		return;
	}

	reply_init(&r, 0, NULL);
	r.page_size = GPUVM_LOCAL_PAGE_SIZE;
	r.ioreq_len = GPUVM_LOCAL_PAGE_SIZE;
	r.bar_base[0] = GPUVM_LOCAL_BAR0_BASE;
	r.bar_base[1] = GPUVM_LOCAL_BAR1_BASE;
	r.bar_base[3] = GPUVM_LOCAL_BAR3_BASE;
	r.bar_size[0] = NV_BAR0_SIZE;
	r.bar_size[1] = ex.bar1_size;
	r.bar_size[3] = ex.bar3_size;
	r.vram_size = ex.vram_size;
	r.bar1_pages = ex.bar1_pages;
	r.bar3_pages = ex.bar3_pages;
	if (export_direct(c, &ex, &r, &why)) {
		remap_ro = reopen_read_only(ex.remap_fd);
		if (remap_ro >= 0) {
			r.flags |= GPUVM_LOCAL_F_DIRECT;
			fds[GPUVM_LOCAL_FD_REMAP] = remap_ro;
			for (unsigned i = 0; i < ex.nparts; i++)
				fds[GPUVM_LOCAL_FD_PART0 + i] = ex.part[i].fd;
			nfds = GPUVM_LOCAL_FD_PART0 + ex.nparts;
		}
	} else {
		r.nparts = 0;
		if (!l->warned_direct) {
			l->warned_direct = true;
			lsn_log(l, 1, "local: vGPU %s: no direct BAR mappings, every BAR access traps: %s",
				c->name, why);
		}
	}

	memset(&scfg, 0, sizeof(scfg));
	scfg.sock = c->sock;
	scfg.bar_size[0] = r.bar_size[0];
	scfg.bar_size[1] = r.bar_size[1];
	scfg.bar_size[3] = r.bar_size[3];
	scfg.mmio = l->ops->mmio;
	scfg.mmio_arg = v;
	scfg.on_guest_gone = conn_guest_gone;
	scfg.gone_arg = l;
	scfg.spin_ns = l->spin_ns;
	scfg.name = c->name;
	err = local_server_create(&scfg, &c->srv);
	if (err) {
		if (remap_ro >= 0)
			close(remap_ro);
		snprintf(msg, sizeof(msg), "vGPU %s: cannot start its server: %s", c->name,
			 strerror(-err));
		conn_refuse(c, err, msg);
		return;
	}
	local_server_fds(c->srv, fds);
	r.nfds = nfds;
	c->phase = CONN_ATTACHED;
	l->pending--;
	l->attached++;
	err = reply_send(c->sock, &r, fds, nfds);
	if (remap_ro >= 0)
		close(remap_ro);
	if (err) {
		lsn_log(l, 1, "local: guest pid %d left during the handshake for vGPU %s: %s",
			(int)c->pid, c->name, strerror(-err));
		conn_release(c, true);
		return;
	}
	lsn_log(l, 2, "local: guest pid %d attached to vGPU %s (%s BAR mappings)", (int)c->pid,
		c->name, (r.flags & GPUVM_LOCAL_F_DIRECT) ? "direct" : "no direct");
}

/* The hello may have arrived. */
static void conn_readable(struct local_conn *c)
{
	struct gpuvm_local_hello h;
	char buf[sizeof(h) + 16];
	ssize_t n;

	memset(&h, 0, sizeof(h));
	n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_release(c, false);
		return;
	}
	/* From here on the socket belongs to the handshake, then to the server. */
	c->l->ops->unwatch(c->l->host, c->sock);
	c->watched = false;
	if ((size_t)n < offsetof(struct gpuvm_local_hello, flags)) {
		conn_refuse(c, -EPROTO, "malformed hello");
		return;
	}
	memcpy(&h, buf, (size_t)n < sizeof(h) ? (size_t)n : sizeof(h));
	if (h.magic != GPUVM_LOCAL_MAGIC) {
		conn_refuse(c, -EPROTO, "not a gpuvm local hello (bad magic)");
		return;
	}
	if (h.version != GPUVM_LOCAL_VERSION) {
		char msg[GPUVM_LOCAL_MSG_MAX];

		snprintf(msg, sizeof(msg), "protocol version %u not supported (daemon speaks %u)",
			 (unsigned)h.version, GPUVM_LOCAL_VERSION);
		conn_refuse(c, -EPROTONOSUPPORT, msg);
		return;
	}
	if ((size_t)n != sizeof(h) || h.size != sizeof(h) || h.flags || h.reserved) {
		conn_refuse(c, -EPROTO, "malformed hello (size or reserved fields)");
		return;
	}
	if (!local_name_valid(h.name, sizeof(h.name))) {
		conn_refuse(c, -EINVAL, "invalid vGPU name");
		return;
	}
	memcpy(c->name, h.name, sizeof(c->name));
	conn_attach(c);
}

static void lsn_accept(struct local_listener *l)
{
	for (;;) {
		struct local_conn *c;
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				lsn_log(l, 1, "local: accept on %s: %s", l->path, strerror(errno));
			return;
		}
		if (l->pending >= l->max_pending) {
			/* Make room: drop the oldest connection still in its handshake. */
			struct local_conn *old = NULL;

			for (c = l->conns; c; c = c->next)
				if (c->phase == CONN_HELLO)
					old = c;
			if (old)
				conn_release(old, false);
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->l = l;
		c->sock = fd;
		c->phase = CONN_HELLO;
		c->pid = -1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			c->pid = cred.pid;
		if (l->ops->watch(l->host, fd, l) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->watched = true;
		c->next = l->conns;
		l->conns = c;
		l->pending++;
	}
}

void local_listener_fd_ready(struct local_listener *l, int fd, short revents)
{
	(void)revents;
	if (fd == l->listen_fd) {
		lsn_accept(l);
		return;
	}
	if (fd == l->event_fd) {
		lsn_reap(l);
		return;
	}
	for (struct local_conn *c = l->conns; c; c = c->next)
		if (c->sock == fd && c->watched) {
			conn_readable(c);
			return;
		}
}

/* ---- the socket -------------------------------------------------------------------------- */
static int lsn_bind(struct local_listener *l, char *err, size_t errlen, unsigned mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, e;

	memcpy(sa.sun_path, l->path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* A socket file is there: stale (nobody answers) or another daemon's. */
		int probe = errno == EADDRINUSE ? socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1;
		bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		e = errno;
		if (probe >= 0)
			close(probe);
		if (alive) {
			close(fd);
			snprintf(err, errlen, "%s: another daemon is serving guests there", l->path);
			return -EADDRINUSE;
		}
		if (probe >= 0 && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(l->path);
		if (probe < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = probe < 0 ? e : errno;
			close(fd);
			snprintf(err, errlen, "bind %s: %s", l->path, strerror(e));
			return -e;
		}
	}
	if (chmod(l->path, mode) < 0 || listen(fd, 64) < 0 || stat(l->path, &st) < 0) {
		e = errno;
		close(fd);
		unlink(l->path);
		snprintf(err, errlen, "listen on %s: %s", l->path, strerror(e));
		return -e;
	}
	l->sock_ino = st.st_ino;
	l->listen_fd = fd;
	return 0;
}

int local_listener_start(const struct local_host_ops *ops, void *host,
			 const struct local_listener_config *cfg, struct local_listener **out,
			 char *err, size_t errlen)
{
	struct local_listener *l;
	int e;

	*out = NULL;
	if (!cfg->path || !*cfg->path || strlen(cfg->path) >= sizeof(l->path)) {
		snprintf(err, errlen, "guest socket path %s", cfg->path && *cfg->path ?
			 "too long" : "missing");
		return -ENAMETOOLONG;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->ops = ops;
	l->host = host;
	l->listen_fd = l->event_fd = -1;
	strcpy(l->path, cfg->path);
	l->spin_ns = cfg->no_spin ? 0 :
		     local_spin_budget(cfg->spin_ns ? cfg->spin_ns : LOCAL_DEFAULT_SPIN_NS);
	l->max_pending = cfg->max_pending ? cfg->max_pending : LOCAL_DEFAULT_PENDING;
	l->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->event_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-e));
		free(l);
		return e;
	}
	e = lsn_bind(l, err, errlen, cfg->socket_mode ? cfg->socket_mode : LOCAL_DEFAULT_MODE);
	if (e) {
		close(l->event_fd);
		free(l);
		return e;
	}
	if (ops->watch(host, l->listen_fd, l) < 0 || ops->watch(host, l->event_fd, l) < 0) {
		ops->unwatch(host, l->listen_fd);
		close(l->listen_fd);
		close(l->event_fd);
		unlink(l->path);
		free(l);
		snprintf(err, errlen, "cannot watch the guest socket");
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void local_listener_stop(struct local_listener *l)
{
	struct stat st;

	if (!l)
		return;
	while (l->conns)
		conn_release(l->conns, l->conns->vgpu != NULL);
	l->ops->unwatch(l->host, l->listen_fd);
	l->ops->unwatch(l->host, l->event_fd);
	close(l->listen_fd);
	close(l->event_fd);
	/* Remove the socket only if it is still ours. */
	if (stat(l->path, &st) == 0 && st.st_ino == l->sock_ino)
		unlink(l->path);
	free(l);
}

unsigned local_listener_attached(const struct local_listener *l)
{
	return l->attached;
}

int local_listener_stats(const struct local_listener *l, const char *name,
			 struct local_server_stats *out)
{
	for (const struct local_conn *c = l->conns; c; c = c->next)
		if (c->phase == CONN_ATTACHED && !strcmp(c->name, name)) {
			local_server_get_stats(c->srv, out);
			return 0;
		}
	return -ENOENT;
}
