/*
 * Fake vGPUs and a control thread for the local backend tests (util_fake.h).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util_fake.h"

bool fake_wait_fd(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

/* ---- the vGPU side (host ops) --------------------------------------------------- */
static void *fake_find(void *host, const char *name)
{
	return fake_vgpu(host, name);
}

static int fake_attach(void *host, void *vgpu, void (*hook)(void *arg), void *arg)
{
	struct fake_vgpu *v = vgpu;
	struct fake_host *h = host;
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	if (v->attached) {
		ret = -EBUSY;
	} else {
		v->attached = true;
		v->hook = hook;
		v->hook_arg = arg;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static void fake_detach(void *host, void *vgpu)
{
	struct fake_vgpu *v = vgpu;
	struct fake_host *h = host;

	/* A reset: registers cleared, every BAR page traps again. */
	memset(v->bar0, 0, sizeof(v->bar0));
	for (unsigned i = 0; i < (FAKE_BAR1 + FAKE_BAR3) / GPUVM_LOCAL_PAGE_SIZE; i++)
		__atomic_store_n(&v->remap[i], 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&h->lock);
	v->attached = false;
	v->hook = NULL;
	v->detaches++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static int fake_export(void *host, void *vgpu, struct vgpu_export *out)
{
	struct fake_vgpu *v = vgpu;

	(void)host;
	memset(out, 0, sizeof(*out));
	out->vram_size = FAKE_VRAM;
	out->nparts = 2;
	for (unsigned i = 0; i < 2; i++) {
		out->part[i].fd = v->part_fd[i];
		out->part[i].fd_off = 0;
		out->part[i].len = FAKE_PART;
	}
	out->remap_fd = v->remap_fd;
	out->bar1_size = FAKE_BAR1;
	out->bar3_size = FAKE_BAR3;
	out->bar1_pages = FAKE_BAR1 / GPUVM_LOCAL_PAGE_SIZE;
	out->bar3_pages = FAKE_BAR3 / GPUVM_LOCAL_PAGE_SIZE;
	return 0;
}

static void fake_mem(uint8_t *mem, uint64_t len, struct vgpu_io *io)
{
	if (io->offset >= len || io->size > len - io->offset) {
		if (io->dir == VGPU_IO_READ)
			io->data = FAKE_UNBACKED;
		return;
	}
	if (io->dir == VGPU_IO_READ) {
		io->data = 0;
		memcpy(&io->data, mem + io->offset, io->size);
	} else {
		memcpy(mem + io->offset, &io->data, io->size);
	}
}

static void fake_mmio(void *arg, struct vgpu_io *io)
{
	struct fake_vgpu *v = arg;

	__atomic_add_fetch(&v->mmio_calls, 1, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&v->block, 0, __ATOMIC_ACQ_REL)) {
		uint64_t one = 1, x;

		assert_int_equal(write(v->entered_fd, &one, sizeof(one)), sizeof(one));
		/* Bounded: a test that forgets to release fails instead of hanging. */
		if (fake_wait_fd(v->release_fd, 10000))
			assert_int_equal(read(v->release_fd, &x, sizeof(x)), sizeof(x));
	}
	v->last = *io;
	if (io->bar == 0)
		fake_mem(v->bar0, sizeof(v->bar0), io);
	else
		fake_mem(v->vram, FAKE_VRAM, io);
}

static int fake_watch(void *host, int fd, struct local_listener *l)
{
	return local_loop_watch(((struct fake_host *)host)->loop, fd, l);
}

static void fake_unwatch(void *host, int fd)
{
	local_loop_unwatch(((struct fake_host *)host)->loop, fd);
}

static void fake_log(void *host, int level, const char *msg)
{
	struct fake_host *h = host;

	pthread_mutex_lock(&h->lock);
	snprintf(h->lastlog, sizeof(h->lastlog), "%s", msg);
	pthread_mutex_unlock(&h->lock);
	if (getenv("FAKE_VERBOSE"))
		fprintf(stderr, "[%d] %s\n", level, msg);
}

/* ---- set-up ------------------------------------------------------------------------ */
static void fake_vgpu_init(struct fake_host *h, struct fake_vgpu *v, const char *name)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	size_t remap_bytes = (FAKE_BAR1 + FAKE_BAR3) / GPUVM_LOCAL_PAGE_SIZE * sizeof(uint32_t);
	void *p;

	snprintf(v->name, sizeof(v->name), "%s", name);
	v->h = h;
	/* A vGPU named "unsealed..." has backing files that cannot be sealed. */
	v->sealable = strncmp(name, "unsealed", 8) != 0;
	if (!v->sealable)
		flags = MFD_CLOEXEC;
	v->entered_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->release_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(v->entered_fd >= 0 && v->release_fd >= 0);
	p = mmap(NULL, FAKE_VRAM, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	v->vram = p;
	for (unsigned i = 0; i < 2; i++) {
		v->part_fd[i] = memfd_create("fake-vram", flags);
		assert_true(v->part_fd[i] >= 0);
		assert_int_equal(ftruncate(v->part_fd[i], FAKE_PART), 0);
		assert_true(mmap(v->vram + i * FAKE_PART, FAKE_PART, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, v->part_fd[i], 0) != MAP_FAILED);
	}
	v->remap_fd = memfd_create("fake-remap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(v->remap_fd >= 0);
	assert_int_equal(ftruncate(v->remap_fd, (off_t)remap_bytes), 0);
	p = mmap(NULL, remap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->remap_fd, 0);
	assert_true(p != MAP_FAILED);
	v->remap = p;
}

static void fake_vgpu_fini(struct fake_vgpu *v)
{
	size_t remap_bytes = (FAKE_BAR1 + FAKE_BAR3) / GPUVM_LOCAL_PAGE_SIZE * sizeof(uint32_t);

	munmap(v->remap, remap_bytes);
	munmap(v->vram, FAKE_VRAM);
	close(v->remap_fd);
	close(v->part_fd[0]);
	close(v->part_fd[1]);
	close(v->entered_fd);
	close(v->release_fd);
}

struct start_args {
	struct fake_host *h;
	struct local_listener_config cfg;
	int ret;
	char err[256];
};

static void do_start(void *arg)
{
	struct start_args *a = arg;

	a->ret = local_listener_start(&a->h->ops, a->h, &a->cfg, &a->h->lsn, a->err, sizeof(a->err));
}

static void do_stop(void *arg)
{
	struct fake_host *h = arg;

	local_listener_stop(h->lsn);
	h->lsn = NULL;
}

void fake_host_start(struct fake_host *h, const char *const *names, unsigned n, unsigned spin_ns)
{
	struct start_args a;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	snprintf(h->dir, sizeof(h->dir), "/tmp/gpuvm-trap-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/gpuvmd.sock.guest", h->dir);
	h->ops.find = fake_find;
	h->ops.attach = fake_attach;
	h->ops.detach = fake_detach;
	h->ops.export_bars = fake_export;
	h->ops.mmio = fake_mmio;
	h->ops.watch = fake_watch;
	h->ops.unwatch = fake_unwatch;
	h->ops.log = fake_log;
	assert_true(n <= FAKE_MAX_VGPUS);
	for (unsigned i = 0; i < n; i++)
		fake_vgpu_init(h, &h->v[i], names[i]);
	h->nv = n;
	assert_int_equal(local_loop_start(&h->loop), 0);
	memset(&a, 0, sizeof(a));
	a.h = h;
	a.cfg.path = h->path;
	a.cfg.spin_ns = spin_ns;
	local_loop_call(h->loop, do_start, &a);
	if (a.ret)
		fail_msg("listener start: %s", a.err);
}

void fake_listener_stop(struct fake_host *h)
{
	local_loop_call(h->loop, do_stop, h);
}

void fake_host_stop(struct fake_host *h)
{
	if (h->lsn)
		local_loop_call(h->loop, do_stop, h);
	local_loop_stop(h->loop);
	for (unsigned i = 0; i < h->nv; i++)
		fake_vgpu_fini(&h->v[i]);
	assert_int_equal(access(h->path, F_OK), -1);   /* the socket was removed */
	rmdir(h->dir);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
}

struct fake_vgpu *fake_vgpu(struct fake_host *h, const char *name)
{
	for (unsigned i = 0; i < h->nv; i++)
		if (!strcmp(h->v[i].name, name))
			return &h->v[i];
	return NULL;
}

bool fake_wait_detaches(struct fake_vgpu *v, int want)
{
	struct fake_host *h = v->h;
	struct timespec dl;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&h->lock);
	while (v->detaches < want)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &dl) == ETIMEDOUT)
			break;
	ok = v->detaches >= want;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static void do_destroy(void *arg)
{
	struct fake_vgpu *v = arg;
	void (*hook)(void *);
	void *harg;

	pthread_mutex_lock(&v->h->lock);
	hook = v->attached ? v->hook : NULL;
	harg = v->hook_arg;
	pthread_mutex_unlock(&v->h->lock);
	if (hook)
		hook(harg);     /* must return only once the backend stopped calling mmio */
	pthread_mutex_lock(&v->h->lock);
	if (hook)
		v->hooks++;
	v->attached = false;
	v->hook = NULL;
	pthread_cond_broadcast(&v->h->cond);
	pthread_mutex_unlock(&v->h->lock);
}

void fake_destroy(struct fake_vgpu *v)
{
	local_loop_call(v->h->loop, do_destroy, v);
}

void fake_remap(struct fake_vgpu *v, unsigned bar, uint64_t off, long gpage)
{
	uint64_t i = gpuvm_local_remap_index(bar, off, FAKE_BAR1 / GPUVM_LOCAL_PAGE_SIZE);

	__atomic_store_n(&v->remap[i], gpage < 0 ? 0u : (uint32_t)gpage + 1, __ATOMIC_RELEASE);
}

void fake_state(struct fake_vgpu *v, bool *attached, int *detaches, int *hooks)
{
	pthread_mutex_lock(&v->h->lock);
	*attached = v->attached;
	*detaches = v->detaches;
	*hooks = v->hooks;
	pthread_mutex_unlock(&v->h->lock);
}

struct stats_args {
	struct fake_host *h;
	const char *name;
	struct local_server_stats *out;
	int ret;
};

static void do_stats(void *arg)
{
	struct stats_args *a = arg;

	a->ret = local_listener_stats(a->h->lsn, a->name, a->out);
}

int fake_stats(struct fake_host *h, const char *name, struct local_server_stats *out)
{
	struct stats_args a = { .h = h, .name = name, .out = out };

	local_loop_call(h->loop, do_stats, &a);
	return a.ret;
}

void fake_block_next(struct fake_vgpu *v)
{
	__atomic_store_n(&v->block, 1, __ATOMIC_RELEASE);
}

bool fake_wait_entered(struct fake_vgpu *v)
{
	uint64_t x;

	if (!fake_wait_fd(v->entered_fd, 10000))
		return false;
	return read(v->entered_fd, &x, sizeof(x)) == (ssize_t)sizeof(x);
}

void fake_release(struct fake_vgpu *v)
{
	uint64_t one = 1;

	assert_int_equal(write(v->release_fd, &one, sizeof(one)), sizeof(one));
}
