/*
 * MMIO round-trip benchmark of the local trap backend.
 *
 * Each row forks a guest process that attaches to a vGPU through the guest
 * library's "local:" transport and times N BAR0 reads one by one
 * (clock_gettime around each gpuvm_tp_rd32); the daemon side (listener,
 * control thread, the vGPU's server thread) runs in this process:
 *
 *   fake vGPU      the server with a handler that returns a constant: the
 *                  cost of the trap path alone
 *   vGPU (gpusim)  the real vGPU core on gpusim, reading PMC.BOOT0 (a
 *                  virtual register answered by the register table)
 *
 * each with the default spinning, and with spinning off on both sides (every
 * request and answer then crosses an eventfd: the sleeping path).  For
 * scale, the last rows call the vGPU's handler and gpusim's register read
 * directly, in-process, with no trap at all.
 *
 * Prints one markdown table.  Usage: mmio [--quick] [--iters N]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpusim.h"
#include "gpuvm_local.h"
#include "gpuvm_transport.h"
#include "host.h"
#include "local_listener.h"
#include "local_loop.h"
#include "log.h"
#include "nvc0/regs.h"
#include "vgpu.h"

#define BENCH_VGPU      "bench"
#define FAKE_VALUE      0x0badc0deu

struct result {
	int ok;
	uint64_t n;
	double median, p90, p99, p999, max, mean;   /* ns */
	uint32_t value;                             /* what the reads returned */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void summarise(uint32_t *ns, uint64_t n, struct result *r)
{
	double sum = 0;

	qsort(ns, n, sizeof(ns[0]), cmp_u32);
	for (uint64_t i = 0; i < n; i++)
		sum += ns[i];
	r->n = n;
	r->median = ns[n / 2];
	r->p90 = ns[n * 90 / 100];
	r->p99 = ns[n * 99 / 100];
	r->p999 = ns[n * 999 / 1000];
	r->max = ns[n - 1];
	r->mean = sum / (double)n;
	r->ok = 1;
}

/* ---- the guest (a child process) ------------------------------------------------------ */
static void guest_main(const char *path, uint64_t iters, unsigned spin_ns, int go_fd, int out_fd)
{
	struct gpuvm_transport *t = NULL;
	struct result r = { 0 };
	uint32_t *ns = malloc(iters * sizeof(uint32_t));
	char spec[200], go;
	uint32_t v = 0;

	if (read(go_fd, &go, 1) != 1 || !ns)
		_exit(1);
	if (spin_ns != ~0u) {
		char s[32];

		snprintf(s, sizeof(s), "%u", spin_ns);
		setenv("GPUVM_LOCAL_SPIN_NS", s, 1);
	}
	snprintf(spec, sizeof(spec), "local:%s@%s", BENCH_VGPU, path);
	if (gpuvm_transport_open(spec, &t) == 0) {
		for (uint64_t i = 0; i < iters / 10 + 1000; i++)        /* warm up */
			v = gpuvm_tp_rd32(t, NV_PMC_BOOT0);
		for (uint64_t i = 0; i < iters; i++) {
			uint64_t t0 = now_ns();

			v = gpuvm_tp_rd32(t, NV_PMC_BOOT0);
			ns[i] = (uint32_t)(now_ns() - t0);
		}
		if (t->ops->check(t) == 0) {
			summarise(ns, iters, &r);
			r.value = v;
		}
	}
	if (write(out_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	/* Stay attached until the daemon side has read its statistics. */
	if (read(go_fd, &go, 1) < 0)
		_exit(1);
	gpuvm_transport_close(t);
	free(ns);
	_exit(0);
}

struct guest {
	pid_t pid;
	int go_fd, res_fd;
};

/* Fork the guest before the daemon side starts any thread. */
static int guest_fork(struct guest *g, const char *path, uint64_t iters, unsigned spin_ns)
{
	int go[2], res[2];

	if (pipe(go) || pipe(res))
		return -1;
	g->pid = fork();
	if (g->pid < 0)
		return -1;
	if (g->pid == 0) {
		close(go[1]);
		close(res[0]);
		guest_main(path, iters, spin_ns, go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	g->go_fd = go[1];
	g->res_fd = res[0];
	return 0;
}

static void guest_finish(struct guest *g, struct result *r)
{
	int status;

	close(g->go_fd);
	close(g->res_fd);
	if (!r->ok)
		kill(g->pid, SIGKILL);
	waitpid(g->pid, &status, 0);
}

/* ---- the daemon side --------------------------------------------------------------------- */
struct bench_host {
	struct local_host_ops ops;
	struct local_loop *loop;
	struct local_listener *lsn;
	void *vgpu;             /* the one vGPU: a struct vgpu, or fake_vgpu below */
	char path[108];
	/* fake */
	int part_fd, remap_fd;
	uint32_t *remap;
	int attached;
};

static struct bench_host *bh_of(void *host)
{
	return host;
}

static void *bh_find(void *host, const char *name)
{
	return strcmp(name, BENCH_VGPU) ? NULL : bh_of(host)->vgpu;
}

static int bh_watch(void *host, int fd, struct local_listener *l)
{
	return local_loop_watch(bh_of(host)->loop, fd, l);
}

static void bh_unwatch(void *host, int fd)
{
	local_loop_unwatch(bh_of(host)->loop, fd);
}

/* Fake vGPU: constant reads, a 16 MiB partition. */
static int fake_attach(void *host, void *v, void (*hook)(void *), void *arg)
{
	(void)v;
	(void)hook;
	(void)arg;
	if (bh_of(host)->attached)
		return -EBUSY;
	bh_of(host)->attached = 1;
	return 0;
}

static void fake_detach(void *host, void *v)
{
	(void)v;
	bh_of(host)->attached = 0;
}

static int fake_export(void *host, void *v, struct vgpu_export *ex)
{
	struct bench_host *h = bh_of(host);

	(void)v;
	memset(ex, 0, sizeof(*ex));
	ex->vram_size = 16u << 20;
	ex->nparts = 1;
	ex->part[0].fd = h->part_fd;
	ex->part[0].len = 16u << 20;
	ex->remap_fd = h->remap_fd;
	ex->bar1_size = 1u << 20;
	ex->bar3_size = 1u << 20;
	ex->bar1_pages = ex->bar3_pages = 256;
	return 0;
}

static void fake_mmio(void *v, struct vgpu_io *io)
{
	(void)v;
	if (io->dir == VGPU_IO_READ)
		io->data = FAKE_VALUE;
}

/* Real vGPU. */
static int real_attach(void *host, void *v, void (*hook)(void *), void *arg)
{
	(void)host;
	return vgpu_attach(v, hook, arg);
}

static void real_detach(void *host, void *v)
{
	(void)host;
	vgpu_detach(v);
}

static int real_export(void *host, void *v, struct vgpu_export *ex)
{
	(void)host;
	return vgpu_export(v, ex);
}

static void real_mmio(void *v, struct vgpu_io *io)
{
	vgpu_mmio(v, io);
}

struct start_args {
	struct bench_host *h;
	unsigned spin;
	int ret;
	char err[256];
};

static void do_start(void *arg)
{
	struct start_args *a = arg;
	struct local_listener_config cfg = { .path = a->h->path, .no_spin = !a->spin };

	a->ret = local_listener_start(&a->h->ops, a->h, &cfg, &a->h->lsn, a->err, sizeof(a->err));
}

static void do_stop(void *arg)
{
	struct bench_host *h = arg;

	local_listener_stop(h->lsn);
	h->lsn = NULL;
}

struct stats_args {
	struct bench_host *h;
	struct local_server_stats st;
	int ret;
};

static void do_stats(void *arg)
{
	struct stats_args *a = arg;

	a->ret = local_listener_stats(a->h->lsn, BENCH_VGPU, &a->st);
}

static int bh_serve(struct bench_host *h, struct guest *g, unsigned server_spin,
		    struct result *r, struct local_server_stats *st)
{
	struct start_args a = { .h = h, .spin = server_spin };
	struct stats_args sa = { .h = h };
	ssize_t n;

	if (local_loop_start(&h->loop))
		return -1;
	local_loop_call(h->loop, do_start, &a);
	if (a.ret) {
		fprintf(stderr, "mmio: listener: %s\n", a.err);
		local_loop_stop(h->loop);
		return -1;
	}
	if (write(g->go_fd, "g", 1) != 1)
		return -1;
	n = read(g->res_fd, r, sizeof(*r));
	if (n != (ssize_t)sizeof(*r))
		r->ok = 0;
	local_loop_call(h->loop, do_stats, &sa);
	*st = sa.st;
	guest_finish(g, r);
	local_loop_call(h->loop, do_stop, h);
	local_loop_stop(h->loop);
	return r->ok ? 0 : -1;
}

static const char *sock_path(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/gpuvm-mmio-bench-%d.sock.guest", (int)getpid());
	unlink(buf);
	return buf;
}

static int run_fake(uint64_t iters, unsigned spin, struct result *r, struct local_server_stats *st)
{
	struct bench_host h;
	struct guest g;
	int ret;

	memset(&h, 0, sizeof(h));
	sock_path(h.path, sizeof(h.path));
	if (guest_fork(&g, h.path, iters, spin ? ~0u : 0))
		return -1;
	h.ops = (struct local_host_ops){
		.find = bh_find, .attach = fake_attach, .detach = fake_detach,
		.export_bars = fake_export, .mmio = fake_mmio, .watch = bh_watch,
		.unwatch = bh_unwatch,
	};
	h.vgpu = &h;
	h.part_fd = memfd_create("bench-vram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	h.remap_fd = memfd_create("bench-remap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (h.part_fd < 0 || h.remap_fd < 0 || ftruncate(h.part_fd, 16u << 20) ||
	    ftruncate(h.remap_fd, 512 * 4))
		return -1;
	h.remap = mmap(NULL, 512 * 4, PROT_READ | PROT_WRITE, MAP_SHARED, h.remap_fd, 0);
	ret = bh_serve(&h, &g, spin, r, st);
	munmap(h.remap, 512 * 4);
	close(h.part_fd);
	close(h.remap_fd);
	return ret;
}

static int run_real(uint64_t iters, unsigned spin, struct result *r, struct local_server_stats *st)
{
	struct gpusim_config scfg = { .vram_size = 256ull << 20 };
	struct vgpu_config vcfg = { .name = BENCH_VGPU, .vram_size = 64ull << 20, .channels = 8 };
	struct bench_host h;
	struct gpusim *sim;
	struct gpuvm_host *host;
	struct guest g;
	char err[256];
	int ret;

	memset(&h, 0, sizeof(h));
	sock_path(h.path, sizeof(h.path));
	if (guest_fork(&g, h.path, iters, spin ? ~0u : 0))
		return -1;
	sim = gpusim_create(&scfg);
	host = sim ? host_create(gpusim_hw(sim), NULL, err, sizeof(err)) : NULL;
	if (!host) {
		fprintf(stderr, "mmio: cannot create the GPU host\n");
		goto out;
	}
	h.vgpu = vgpu_create(host, &vcfg, err, sizeof(err));
	if (!h.vgpu) {
		fprintf(stderr, "mmio: vgpu_create: %s\n", err);
		goto out;
	}
	h.ops = (struct local_host_ops){
		.find = bh_find, .attach = real_attach, .detach = real_detach,
		.export_bars = real_export, .mmio = real_mmio, .watch = bh_watch,
		.unwatch = bh_unwatch,
	};
	ret = bh_serve(&h, &g, spin, r, st);
	vgpu_destroy(h.vgpu);
	host_destroy(host);
	return ret;
out:
	r->ok = 0;
	guest_finish(&g, r);
	if (host)
		host_destroy(host);
	else if (sim)
		gpusim_destroy(sim);
	return -1;
}

/* In-process calls, no trap: what the handler itself costs. */
static void run_direct(uint64_t iters, int which, struct result *r)
{
	struct gpusim_config scfg = { .vram_size = 256ull << 20 };
	struct vgpu_config vcfg = { .name = BENCH_VGPU, .vram_size = 64ull << 20, .channels = 8 };
	uint32_t *ns = malloc(iters * sizeof(uint32_t));
	struct gpusim *sim = gpusim_create(&scfg);
	struct gpuvm_host *host = NULL;
	struct vgpu *v = NULL;
	struct gpu_hw *hw;
	char err[256];

	r->ok = 0;
	if (!ns || !sim)
		goto out;
	hw = gpusim_hw(sim);
	if (which == 0) {
		host = host_create(hw, NULL, err, sizeof(err));
		v = host ? vgpu_create(host, &vcfg, err, sizeof(err)) : NULL;
		if (!v)
			goto out;
	}
	for (uint64_t i = 0; i < iters + iters / 10; i++) {
		struct vgpu_io io = { .bar = 0, .dir = VGPU_IO_READ, .size = 4, .offset = NV_PMC_BOOT0 };
		uint64_t t0 = now_ns();

		if (v)
			vgpu_mmio(v, &io);
		else
			io.data = gpu_rd32(hw, NV_PMC_BOOT0);
		if (i >= iters / 10)
			ns[i - iters / 10] = (uint32_t)(now_ns() - t0);
		r->value = (uint32_t)io.data;
	}
	summarise(ns, iters, r);
out:
	if (v)
		vgpu_destroy(v);
	if (host)
		host_destroy(host);
	else if (sim)
		gpusim_destroy(sim);
	free(ns);
}

static void row(const char *name, const struct result *r, const struct local_server_stats *st)
{
	if (!r->ok) {
		printf("| %-44s | failed |  |  |  |  |  |  |\n", name);
		return;
	}
	printf("| %-44s | %7.0f | %7.0f | %7.0f | %7.0f | %8.0f | %7.0f | ", name, r->median, r->p90,
	       r->p99, r->p999, r->max, r->mean);
	if (st)
		printf("%llu |\n", (unsigned long long)st->sleeps);
	else
		printf("- |\n");
}

int main(int argc, char **argv)
{
	uint64_t iters = 200000;
	struct result r;
	struct local_server_stats st;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			iters = 20000;
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--quick] [--iters N]\n", argv[0]);
			return 2;
		}
	}
	if (iters < 100)
		iters = 100;
	signal(SIGPIPE, SIG_IGN);
	gpuvm_log_set_level(GPUVM_LOG_WARN);
	printf("MMIO round trip on the local backend: %llu BAR0 reads (PMC.BOOT0) per row, "
	       "guest in its own process, times in ns\n\n", (unsigned long long)iters);
	printf("| %-44s | %7s | %7s | %7s | %7s | %8s | %7s | %s |\n", "path", "median", "p90", "p99",
	       "p99.9", "max", "mean", "server sleeps");
	printf("|%s|---------|---------|---------|---------|----------|---------|---|\n",
	       "----------------------------------------------");

	memset(&r, 0, sizeof(r));
	failed |= run_fake(iters, 1, &r, &st) || r.value != FAKE_VALUE;
	row("local, fake vGPU, spinning", &r, &st);
	memset(&r, 0, sizeof(r));
	failed |= run_fake(iters / 10, 0, &r, &st) || r.value != FAKE_VALUE;
	row("local, fake vGPU, no spinning (eventfds)", &r, &st);
	memset(&r, 0, sizeof(r));
	failed |= run_real(iters, 1, &r, &st) || r.value != NV_PMC_BOOT0_GF100;
	row("local, vGPU on gpusim, spinning", &r, &st);
	memset(&r, 0, sizeof(r));
	failed |= run_real(iters / 10, 0, &r, &st) || r.value != NV_PMC_BOOT0_GF100;
	row("local, vGPU on gpusim, no spinning (eventfds)", &r, &st);
	run_direct(iters, 0, &r);
	row("in-process vgpu_mmio() call, no trap", &r, NULL);
	run_direct(iters, 1, &r);
	row("in-process gpusim rd32, no vGPU", &r, NULL);
	printf("\n(no-spinning rows use a tenth of the reads)\n");
	return failed ? 1 : 0;
}
