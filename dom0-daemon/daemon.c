/*
 * The gpuvmd daemon object (daemon.h): pidfile lock, GPU and host, the
 * vGPU registry, the poll loop with its fd watches, signals and shutdown.
 * The control socket's protocol lives in control.c, the trap backends in
 * mmio-trap/.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "daemon.h"
#include "gpusim.h"
#include "log.h"

#define MIB (UINT64_C(1) << 20)

struct watch {
	int fd;
	short events;
	bool dead;              /* unwatched; removed before the next poll */
	uint64_t serial;        /* tells a reused fd number from the old watch */
	daemon_fd_cb cb;
	void *arg;
};

struct gpuvmd {
	char *socket_path;
	char *guest_socket_path;
	char *pidfile;
	int pid_fd;

	struct gpuvm_host *host;
	struct control *control;
	const struct trap_backend_ops *backend;
	bool backend_started;
	bool shut_down;
	bool has_group;
	gid_t group;

	int wake_pipe[2];       /* daemon_request_stop() writes, the loop wakes */
	atomic_bool stop;

	struct watch *watches;
	size_t nwatches, watch_cap;
	uint64_t next_serial;
	struct pollfd *pfds;    /* one poll's snapshot of the watches */
	uint64_t *pserials;
	size_t pcap;

	struct vgpu **vgpus;    /* creation order */
	unsigned nvgpus, vgpu_cap;
};

/* ---- Backends --------------------------------------------------------------------- */

static const struct {
	const char *name;
	const struct trap_backend_ops *ops;
	const char *missing;    /* why it cannot be used; NULL if it can */
} backends[] = {
	{ "local", &local_backend_ops, NULL },
#ifdef GPUVM_HAVE_XEN
	{ "xen", &xen_backend_ops, NULL },
#else
	{ "xen", NULL, "not built into this gpuvmd: it was configured without the Xen "
		       "libraries (apt-get install libxen-dev, then ./configure && make; "
		       "or use --backend local)" },
#endif
	{ "none", NULL, NULL },
};

int daemon_backend_lookup(const char *name, const struct trap_backend_ops **ops,
			  char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(name, backends[i].name))
			continue;
		if (backends[i].missing) {
			snprintf(err, errlen, "backend '%s': %s", name, backends[i].missing);
			return -1;
		}
		*ops = backends[i].ops;
		return 0;
	}
	snprintf(err, errlen, "unknown backend '%s' (expected local, xen or none)", name);
	return -1;
}

static const char *backend_name(const struct gpuvmd *d)
{
	return d->backend ? d->backend->name : "none";
}

int daemon_backend_attach(struct gpuvmd *d, const struct backend_attach *a, char *vgpu_name,
			  char *err, size_t errlen)
{
	if (!d->backend_started || !d->backend->attach) {
		snprintf(err, errlen, "attach needs a backend whose guests are domains "
			 "(gpuvmd --backend xen); this gpuvmd runs --backend %s", backend_name(d));
		return -1;
	}
	return d->backend->attach(d, a, vgpu_name, err, errlen);
}

int daemon_backend_detach(struct gpuvmd *d, const char *domain, char *err, size_t errlen)
{
	if (!d->backend_started || !d->backend->detach) {
		snprintf(err, errlen, "detach needs a backend whose guests are domains "
			 "(gpuvmd --backend xen); this gpuvmd runs --backend %s", backend_name(d));
		return -1;
	}
	return d->backend->detach(d, domain, err, errlen);
}

/* ---- Pidfile -------------------------------------------------------------------------- */

/* The pid written in a pidfile someone else holds, or -1. */
static long pidfile_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && pid > 0 ? pid : -1;
}

static int pidfile_write_self(int fd, const char *path, char *err, size_t errlen)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "writing pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void pidfile_busy_message(int fd, const char *path, char *err, size_t errlen)
{
	long pid = pidfile_holder(fd);

	if (pid > 0)
		snprintf(err, errlen, "another gpuvmd (pid %ld) is running: it holds the lock on %s",
			 pid, path);
	else
		snprintf(err, errlen, "another gpuvmd is running: it holds the lock on %s "
			 "(its pid is not written yet)", path);
}

/*
 * flock(2) rather than a pid check: the lock dies with its holder, so a
 * stale file from a crashed daemon never blocks a new one.
 */
static int pidfile_lock(struct gpuvmd *d, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "opening pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			pidfile_busy_message(fd, path, err, errlen);
		else
			snprintf(err, errlen, "locking pidfile %s: %s", path, strerror(errno));
		goto fail;
	}
	if (pidfile_write_self(fd, path, err, errlen))
		goto fail;
	d->pid_fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Unlink before closing: the file goes while we still hold its lock. */
static void pidfile_release(struct gpuvmd *d)
{
	if (d->pid_fd < 0)
		return;
	unlink(d->pidfile);
	close(d->pid_fd);
	d->pid_fd = -1;
}

/* ---- GPU ------------------------------------------------------------------------------- */

int daemon_check_gpu_spec(const char *spec, char *err, size_t errlen)
{
	struct gpusim_config cfg;

	if (!strncmp(spec, "pci", 3)) {
		snprintf(err, errlen, "GPU '%s': PCI GPUs are not supported by this build of gpuvmd "
			 "(use sim[,vram=SIZE])", spec);
		return -1;
	}
	return gpusim_parse_spec(spec, &cfg, err, errlen) ? -1 : 0;
}

static struct gpu_hw *gpu_open(const char *spec, char *err, size_t errlen)
{
	struct gpusim_config cfg;
	struct gpusim *sim;

	if (daemon_check_gpu_spec(spec, err, errlen) ||
	    gpusim_parse_spec(spec, &cfg, err, errlen))
		return NULL;
	sim = gpusim_create(&cfg);
	if (!sim) {
		snprintf(err, errlen, "creating gpusim '%s': %s", spec, strerror(errno));
		return NULL;
	}
	return gpusim_hw(sim);
}

static int host_open(struct gpuvmd *d, const struct gpuvmd_config *cfg, char *err, size_t errlen)
{
	struct host_config hcfg = {
		.reserved_vram = cfg->reserved_vram,
		.sched = cfg->sched,
		.sched_params = cfg->sched_params,
	};
	struct gpu_hw *hw = gpu_open(cfg->gpu_spec ? cfg->gpu_spec : "sim", err, errlen);

	if (!hw)
		return -1;
	d->host = host_create(hw, &hcfg, err, errlen);
	if (!d->host) {
		gpu_hw_destroy(hw);     /* host_create owns hw only on success */
		return -1;
	}
	return 0;
}

uint64_t daemon_gpu_vram(struct gpuvmd *d)
{
	struct gpu_hw *hw = host_hw(d->host);

	return hw->ops->vram_size(hw);
}

struct gpuvm_host *daemon_host(struct gpuvmd *d)
{
	return d->host;
}

const char *daemon_socket_path(const struct gpuvmd *d)
{
	return d->socket_path;
}

const char *daemon_guest_socket_path(const struct gpuvmd *d)
{
	return d->guest_socket_path;
}

bool daemon_socket_group(const struct gpuvmd *d, unsigned *gid)
{
	if (d->has_group)
		*gid = (unsigned)d->group;
	return d->has_group;
}

/* ---- Watches ------------------------------------------------------------------------------ */

static struct watch *watch_find(struct gpuvmd *d, int fd)
{
	for (size_t i = 0; i < d->nwatches; i++)
		if (d->watches[i].fd == fd && !d->watches[i].dead)
			return &d->watches[i];
	return NULL;
}

static struct watch *watch_by_serial(struct gpuvmd *d, uint64_t serial)
{
	for (size_t i = 0; i < d->nwatches; i++)
		if (d->watches[i].serial == serial)
			return d->watches[i].dead ? NULL : &d->watches[i];
	return NULL;
}

int daemon_watch_fd(struct gpuvmd *d, int fd, short events, daemon_fd_cb cb, void *arg)
{
	if (fd < 0 || !cb || watch_find(d, fd)) {
		errno = fd < 0 || !cb ? EINVAL : EEXIST;
		return -1;
	}
	if (d->nwatches == d->watch_cap) {
		size_t cap = d->watch_cap ? d->watch_cap * 2 : 16;
		struct watch *w = realloc(d->watches, cap * sizeof(*w));

		if (!w)
			return -1;
		d->watches = w;
		d->watch_cap = cap;
	}
	d->watches[d->nwatches++] = (struct watch){
		.fd = fd, .events = events, .serial = ++d->next_serial, .cb = cb, .arg = arg,
	};
	return 0;
}

int daemon_watch_fd_events(struct gpuvmd *d, int fd, short events)
{
	struct watch *w = watch_find(d, fd);

	if (!w) {
		errno = ENOENT;
		return -1;
	}
	w->events = events;
	return 0;
}

void daemon_unwatch_fd(struct gpuvmd *d, int fd)
{
	struct watch *w = watch_find(d, fd);

	if (w)
		w->dead = true;
}

static void watches_compact(struct gpuvmd *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nwatches; i++)
		if (!d->watches[i].dead)
			d->watches[n++] = d->watches[i];
	d->nwatches = n;
}

/* Copy the watches into the poll array.  0, or -1 out of memory. */
static int watches_snapshot(struct gpuvmd *d)
{
	if (d->pcap < d->nwatches) {
		struct pollfd *p = realloc(d->pfds, d->nwatches * sizeof(*p));
		uint64_t *s;

		if (!p)
			return -1;
		d->pfds = p;
		s = realloc(d->pserials, d->nwatches * sizeof(*s));
		if (!s)
			return -1;
		d->pserials = s;
		d->pcap = d->nwatches;
	}
	for (size_t i = 0; i < d->nwatches; i++) {
		d->pfds[i] = (struct pollfd){ .fd = d->watches[i].fd, .events = d->watches[i].events };
		d->pserials[i] = d->watches[i].serial;
	}
	return 0;
}

/* Callbacks may add and remove watches: look each one up again by serial. */
static void watches_dispatch(struct gpuvmd *d, size_t n)
{
	for (size_t i = 0; i < n && !atomic_load(&d->stop); i++) {
		struct watch *w;

		if (!d->pfds[i].revents)
			continue;
		w = watch_by_serial(d, d->pserials[i]);
		if (w)
			w->cb(d, w->fd, d->pfds[i].revents, w->arg);
	}
}

static int poll_once(struct gpuvmd *d)
{
	size_t n;
	int r;

	watches_compact(d);
	if (watches_snapshot(d)) {
		gpuvm_log(GPUVM_LOG_ERR, "poll loop: out of memory");
		return -1;
	}
	n = d->nwatches;
	r = poll(d->pfds, n, -1);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		gpuvm_log(GPUVM_LOG_ERR, "poll: %s", strerror(errno));
		return -1;
	}
	watches_dispatch(d, n);
	return 0;
}

/* ---- Stop and signals ---------------------------------------------------------------------- */

static struct gpuvmd *signal_daemon;
static volatile sig_atomic_t signal_seen;

void daemon_request_stop(struct gpuvmd *d)
{
	int saved_errno = errno;        /* may run in a signal handler */
	char c = 1;

	atomic_store(&d->stop, true);
	if (write(d->wake_pipe[1], &c, 1) < 0) {
		/* Full pipe: a wake-up is already pending, which is all we need. */
	}
	errno = saved_errno;
}

static void on_stop_signal(int sig)
{
	signal_seen = sig;
	if (signal_daemon)
		daemon_request_stop(signal_daemon);
}

int daemon_handle_signals(struct gpuvmd *d)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&ign.sa_mask);
	signal_daemon = d;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGPIPE, &ign, NULL)) {
		gpuvm_log(GPUVM_LOG_ERR, "sigaction: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void on_wake(struct gpuvmd *d, int fd, short revents, void *arg)
{
	char buf[64];

	(void)d;
	(void)revents;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int wake_pipe_open(struct gpuvmd *d, char *err, size_t errlen)
{
	if (pipe2(d->wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		d->wake_pipe[0] = d->wake_pipe[1] = -1;
		return -1;
	}
	if (daemon_watch_fd(d, d->wake_pipe[0], POLLIN, on_wake, NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- Registry ------------------------------------------------------------------------------ */

static int vgpu_index(struct gpuvmd *d, const char *name)
{
	for (unsigned i = 0; i < d->nvgpus; i++)
		if (!strcmp(vgpu_name(d->vgpus[i]), name))
			return (int)i;
	return -1;
}

struct vgpu *daemon_find_vgpu(struct gpuvmd *d, const char *name)
{
	int i = vgpu_index(d, name);

	return i < 0 ? NULL : d->vgpus[i];
}

unsigned daemon_vgpu_count(const struct gpuvmd *d)
{
	return d->nvgpus;
}

struct vgpu *daemon_vgpu_at(struct gpuvmd *d, unsigned index)
{
	return index < d->nvgpus ? d->vgpus[index] : NULL;
}

static int registry_reserve(struct gpuvmd *d)
{
	unsigned cap;
	struct vgpu **v;

	if (d->nvgpus < d->vgpu_cap)
		return 0;
	cap = d->vgpu_cap ? d->vgpu_cap * 2 : 8;
	v = realloc(d->vgpus, cap * sizeof(*v));
	if (!v)
		return -1;
	d->vgpus = v;
	d->vgpu_cap = cap;
	return 0;
}

/* A clearer message than a failed allocation deep in the core would give. */
static int vram_fits(struct gpuvmd *d, const struct vgpu_config *cfg, char *err, size_t errlen)
{
	uint64_t total, largest;

	host_vram_free(d->host, &total, &largest);
	if (cfg->vram_size <= largest)
		return 0;
	snprintf(err, errlen, "not enough free VRAM for vGPU '%s': %" PRIu64 " MiB requested, "
		 "largest free range %" PRIu64 " MiB (%" PRIu64 " MiB free in all)",
		 cfg->name, cfg->vram_size / MIB, largest / MIB, total / MIB);
	return -1;
}

static int vgpu_config_check(struct gpuvmd *d, const struct vgpu_config *cfg,
			     char *err, size_t errlen)
{
	if (ctl_check_name(cfg->name, err, errlen) ||
	    ctl_check_vram(cfg->vram_size, err, errlen) ||
	    ctl_check_channels(cfg->channels, err, errlen))
		return -1;
	if (daemon_find_vgpu(d, cfg->name)) {
		snprintf(err, errlen, "a vGPU named '%s' already exists", cfg->name);
		return -1;
	}
	return vram_fits(d, cfg, err, errlen);
}

struct vgpu *daemon_create_vgpu(struct gpuvmd *d, const struct vgpu_config *cfg,
				char *err, size_t errlen)
{
	struct vgpu *v;

	if (vgpu_config_check(d, cfg, err, errlen))
		return NULL;
	if (registry_reserve(d)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v = vgpu_create(d->host, cfg, err, errlen);
	if (!v)
		return NULL;
	d->vgpus[d->nvgpus++] = v;
	gpuvm_log(GPUVM_LOG_DEBUG, "created vGPU '%s': mode %s, %" PRIu64 " MiB VRAM, %u channels",
		  cfg->name, vgpu_mode_name(cfg->mode), cfg->vram_size / MIB, cfg->channels);
	return v;
}

static void registry_remove(struct gpuvmd *d, unsigned i)
{
	memmove(&d->vgpus[i], &d->vgpus[i + 1], (d->nvgpus - i - 1) * sizeof(d->vgpus[0]));
	d->nvgpus--;
}

static int no_such_vgpu(const char *name, char *err, size_t errlen)
{
	snprintf(err, errlen, "no vGPU named '%s'", name);
	return -1;
}

static void destroy_at(struct gpuvmd *d, unsigned i)
{
	struct vgpu *v = d->vgpus[i];
	char name[VGPU_NAME_MAX];

	snprintf(name, sizeof(name), "%s", vgpu_name(v));
	registry_remove(d, i);  /* first: a detach hook must not find it any more */
	vgpu_destroy(v);
	gpuvm_log(GPUVM_LOG_DEBUG, "destroyed vGPU '%s'", name);
}

int daemon_destroy_vgpu(struct gpuvmd *d, const char *name, char *err, size_t errlen)
{
	int i = vgpu_index(d, name);

	if (i < 0)
		return no_such_vgpu(name, err, errlen);
	destroy_at(d, (unsigned)i);
	return 0;
}

int daemon_reset_vgpu(struct gpuvmd *d, const char *name, char *err, size_t errlen)
{
	struct vgpu *v = daemon_find_vgpu(d, name);

	if (!v)
		return no_such_vgpu(name, err, errlen);
	vgpu_reset(v);
	gpuvm_log(GPUVM_LOG_DEBUG, "reset vGPU '%s'", name);
	return 0;
}

void daemon_destroy_all_vgpus(struct gpuvmd *d)
{
	while (d->nvgpus > 0)
		destroy_at(d, d->nvgpus - 1);
}

/* ---- Create, run, destroy ------------------------------------------------------------------- */

static char *path_with_suffix(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *s = malloc(a + b + 1);

	if (s) {
		memcpy(s, path, a);
		memcpy(s + a, suffix, b + 1);
	}
	return s;
}

static int paths_init(struct gpuvmd *d, const struct gpuvmd_config *cfg, char *err, size_t errlen)
{
	const char *sock = cfg->socket_path ? cfg->socket_path : ctl_default_socket();

	d->socket_path = strdup(sock);
	d->guest_socket_path = path_with_suffix(sock, CTL_GUEST_SOCKET_SUFFIX);
	d->pidfile = cfg->pidfile ? strdup(cfg->pidfile) : NULL;
	if (!d->socket_path || !d->guest_socket_path || (cfg->pidfile && !d->pidfile)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Check both now: better than a backend failing after the GPU is up. */
	if (strlen(d->guest_socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long (at most %zu characters, "
			 "so that '%s' fits too)", sock,
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - strlen(CTL_GUEST_SOCKET_SUFFIX),
			 CTL_GUEST_SOCKET_SUFFIX);
		return -1;
	}
	return 0;
}

/* NAME or a numeric gid. */
static int group_lookup(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	size_t len = 1024;
	char *buf = NULL, *end;
	unsigned long n = strtoul(name, &end, 10);
	int r;

	if (*name && !*end) {
		*gid = (gid_t)n;
		return 0;
	}
	do {                    /* big groups need a bigger buffer: ERANGE */
		char *b = realloc(buf, len *= 4);

		if (!b) {
			r = ENOMEM;
			break;
		}
		buf = b;
		r = getgrnam_r(name, &gr, buf, len, &res);
	} while (r == ERANGE && len < (1u << 22));
	free(buf);
	if (r || !res) {
		snprintf(err, errlen, "unknown group '%s'%s%s", name, r ? ": " : "", r ? strerror(r) : "");
		return -1;
	}
	*gid = gr.gr_gid;
	return 0;
}

static int control_open(struct gpuvmd *d, const struct gpuvmd_config *cfg, char *err, size_t errlen)
{
	struct control_policy pol = { .self_uid = geteuid() };

	if (cfg->group) {
		if (group_lookup(cfg->group, &pol.group, err, errlen))
			return -1;
		pol.has_group = true;
		d->has_group = true;
		d->group = pol.group;
	}
	d->control = control_create(d, d->socket_path, &pol, err, errlen);
	return d->control ? 0 : -1;
}

static int backend_start(struct gpuvmd *d, const struct gpuvmd_config *cfg, char *err, size_t errlen)
{
	if (daemon_backend_lookup(cfg->backend ? cfg->backend : "none", &d->backend, err, errlen))
		return -1;
	if (!d->backend)
		return 0;
	if (d->backend->start(d, d->guest_socket_path, err, errlen))
		return -1;
	d->backend_started = true;
	return 0;
}

static struct gpuvmd *daemon_alloc(void)
{
	struct gpuvmd *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->pid_fd = -1;
	d->wake_pipe[0] = d->wake_pipe[1] = -1;
	atomic_init(&d->stop, false);
	return d;
}

struct gpuvmd *daemon_create(const struct gpuvmd_config *cfg, char *err, size_t errlen)
{
	struct gpuvmd *d = daemon_alloc();

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (paths_init(d, cfg, err, errlen) || wake_pipe_open(d, err, errlen))
		goto fail;
	if (d->pidfile && pidfile_lock(d, d->pidfile, err, errlen))
		goto fail;
	if (host_open(d, cfg, err, errlen) || control_open(d, cfg, err, errlen) ||
	    backend_start(d, cfg, err, errlen))
		goto fail;
	return d;
fail:
	daemon_destroy(d);
	return NULL;
}

/* Idempotent: run at the end of daemon_run(), or by daemon_destroy(). */
static void daemon_shutdown(struct gpuvmd *d)
{
	if (d->shut_down)
		return;
	d->shut_down = true;
	control_destroy(d->control);    /* no new requests; queued replies flushed */
	d->control = NULL;
	if (d->backend_started)
		d->backend->stop(d);    /* guests dropped before their vGPUs go */
	d->backend_started = false;
	daemon_destroy_all_vgpus(d);
}

static const char *stop_reason(void)
{
	switch (signal_seen) {
	case SIGTERM:
		return " (SIGTERM)";
	case SIGINT:
		return " (SIGINT)";
	default:
		return "";
	}
}

int daemon_run(struct gpuvmd *d)
{
	int ret = 0;

	while (!atomic_load(&d->stop)) {
		if (poll_once(d)) {
			ret = -1;
			break;
		}
	}
	gpuvm_log(GPUVM_LOG_INFO, "shutting down%s: destroying %u vGPU(s)", stop_reason(),
		  d->nvgpus);
	daemon_shutdown(d);
	return ret;
}

void daemon_destroy(struct gpuvmd *d)
{
	if (!d)
		return;
	daemon_shutdown(d);
	if (d->host)
		host_destroy(d->host);
	if (signal_daemon == d)
		signal_daemon = NULL;
	if (d->wake_pipe[0] >= 0)
		close(d->wake_pipe[0]);
	if (d->wake_pipe[1] >= 0)
		close(d->wake_pipe[1]);
	pidfile_release(d);
	free(d->watches);
	free(d->pfds);
	free(d->pserials);
	free(d->vgpus);
	free(d->socket_path);
	free(d->guest_socket_path);
	free(d->pidfile);
	free(d);
}
