/*
 * The local backend end to end: the guest socket, the attach handshake, fd
 * passing, the guest library's "local:" transport (registers, trapped and
 * direct BAR pages), guests that die or misbehave, and vGPUs destroyed
 * under their guest.  The vGPUs are fakes (util_fake.c); guests are this
 * process or forked children.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvm_guest.h"
#include "gpuvm_local.h"
#include "gpuvm_transport.h"
#include "util_fake.h"

static const char *const names[] = { "vm0", "vm1", "unsealed0" };

static struct fake_host *host_up(void)
{
	struct fake_host *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	fake_host_start(h, names, 3, 0);
	return h;
}

static void host_down(struct fake_host *h)
{
	fake_host_stop(h);
	free(h);
}

static struct gpuvm_transport *open_tp(struct fake_host *h, const char *name)
{
	struct gpuvm_transport *t = NULL;
	char spec[160];
	int err;

	snprintf(spec, sizeof(spec), "local:%s@%s", name, h->path);
	err = gpuvm_transport_open(spec, &t);
	if (err)
		fail_msg("open %s: %s", spec, gpuvm_last_error());
	return t;
}

static void client_connect(struct fake_host *h, struct gpuvm_local_client *c, const char *name)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	c->timeout_ms = 5000;
	if (gpuvm_local_connect(c, h->path, name, err, sizeof(err)))
		fail_msg("connect %s: %s", name, err);
}

static void test_attach_roundtrip(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");
	struct gpuvm_transport *t;
	bool attached;
	int detaches, hooks;

	(void)state;
	t = open_tp(h, "vm0");
	assert_string_equal(t->kind, "local");
	assert_int_equal(t->ops->check(t), 0);
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR0), 0x1000000);
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR1), FAKE_BAR1);
	assert_int_equal(t->ops->bar_size(t, GPUVM_BAR3), FAKE_BAR3);
	for (uint32_t i = 0; i < 256; i++)
		gpuvm_tp_wr32(t, i * 4, i * 0x01010101u);
	for (uint32_t i = 0; i < 256; i++)
		assert_int_equal(gpuvm_tp_rd32(t, i * 4), i * 0x01010101u);
	/* Beyond what the fake backs: its own value, not a denial. */
	assert_int_equal(gpuvm_tp_rd32(t, 0x100000), (uint32_t)FAKE_UNBACKED);
	fake_state(v, &attached, &detaches, &hooks);
	assert_true(attached);
	assert_int_equal(detaches, 0);

	/* Leaving detaches (and so resets) the vGPU. */
	gpuvm_transport_close(t);
	assert_true(fake_wait_detaches(v, 1));
	fake_state(v, &attached, &detaches, &hooks);
	assert_false(attached);
	assert_int_equal(hooks, 0);
	/* A new guest finds a reset vGPU. */
	t = open_tp(h, "vm0");
	assert_int_equal(gpuvm_tp_rd32(t, 4), 0);
	gpuvm_transport_close(t);
	assert_true(fake_wait_detaches(v, 2));
	host_down(h);
}

/* A guest that leaves and comes straight back is never told "already has a guest". */
static void test_reattach_immediately(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");

	(void)state;
	for (int i = 0; i < 200; i++) {
		struct gpuvm_transport *t = open_tp(h, "vm0");

		gpuvm_tp_wr32(t, 0x30, (uint32_t)i);
		assert_int_equal(gpuvm_tp_rd32(t, 0x30), (uint32_t)i);
		gpuvm_transport_close(t);
	}
	assert_true(fake_wait_detaches(v, 200));
	host_down(h);
}

static void test_env_socket_path(void **state)
{
	struct fake_host *h = host_up();
	struct gpuvm_transport *t = NULL;
	char ctl[160];

	(void)state;
	snprintf(ctl, sizeof(ctl), "%s/gpuvmd.sock", h->dir);
	setenv("GPUVMD_SOCKET", ctl, 1);
	assert_int_equal(gpuvm_transport_open("local:vm1", &t), GPUVM_OK);
	gpuvm_tp_wr32(t, 0x40, 0xabcd);
	assert_int_equal(gpuvm_tp_rd32(t, 0x40), 0xabcd);
	gpuvm_transport_close(t);
	unsetenv("GPUVMD_SOCKET");
	assert_true(fake_wait_detaches(fake_vgpu(h, "vm1"), 1));
	host_down(h);
}

static void test_bad_specs(void **state)
{
	struct gpuvm_transport *t = NULL;

	(void)state;
	assert_int_equal(gpuvm_transport_open("local:", &t), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_transport_open("local", &t), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_transport_open("local:a b", &t), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_transport_open("local:vm0@", &t), GPUVM_ERR_INVALID);
	assert_int_equal(gpuvm_transport_open("local:0123456789012345678901234567890123", &t),
			 GPUVM_ERR_INVALID);
	/* No daemon there. */
	assert_int_equal(gpuvm_transport_open("local:vm0@/nonexistent/gpuvmd.sock.guest", &t),
			 GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "gpuvmd"));
	assert_null(t);
}

static void test_unknown_vgpu(void **state)
{
	struct fake_host *h = host_up();
	struct gpuvm_transport *t = NULL;
	char spec[160];

	(void)state;
	snprintf(spec, sizeof(spec), "local:nope@%s", h->path);
	assert_int_equal(gpuvm_transport_open(spec, &t), GPUVM_ERR_NO_DEVICE);
	assert_non_null(strstr(gpuvm_last_error(), "no vGPU named nope"));
	host_down(h);
}

static void test_second_guest_busy(void **state)
{
	struct fake_host *h = host_up();
	struct gpuvm_local_client a, b;
	struct gpuvm_transport *t1, *t2;
	char err[256];

	(void)state;
	client_connect(h, &a, "vm0");
	memset(&b, 0, sizeof(b));
	assert_int_equal(gpuvm_local_connect(&b, h->path, "vm0", err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "vGPU vm0 already has a guest");
	/* The first guest is unaffected. */
	{
		uint64_t v = 0x77;

		assert_int_equal(gpuvm_local_io(&a, GPUVM_LOCAL_BAR0_BASE + 8, 4, GPUVM_IOREQ_WRITE, &v), 0);
		v = 0;
		assert_int_equal(gpuvm_local_io(&a, GPUVM_LOCAL_BAR0_BASE + 8, 4, GPUVM_IOREQ_READ, &v), 0);
		assert_int_equal(v, 0x77);
	}
	gpuvm_local_disconnect(&a);
	assert_true(fake_wait_detaches(fake_vgpu(h, "vm0"), 1));

	/* In one process, opens of the same vGPU share one attachment. */
	t1 = open_tp(h, "vm1");
	t2 = open_tp(h, "vm1");
	assert_ptr_equal(t1, t2);
	gpuvm_transport_close(t2);
	assert_int_equal(t1->ops->check(t1), 0);
	gpuvm_tp_wr32(t1, 0, 5);
	assert_int_equal(gpuvm_tp_rd32(t1, 0), 5);
	gpuvm_transport_close(t1);
	assert_true(fake_wait_detaches(fake_vgpu(h, "vm1"), 1));
	host_down(h);
}

/* A guest child: attach, then write a register (which the fake holds). */
static pid_t spawn_guest(struct fake_host *h, const char *name)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct gpuvm_transport *t = NULL;
		char spec[160];

		snprintf(spec, sizeof(spec), "local:%s@%s", name, h->path);
		if (gpuvm_transport_open(spec, &t))
			_exit(2);
		gpuvm_tp_wr32(t, 0x10, 1);
		_exit(t->ops->check(t) ? 3 : 0);
	}
	return pid;
}

static void test_guest_killed_mid_request(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v0 = fake_vgpu(h, "vm0");
	struct gpuvm_transport *t1, *t0;
	int status, detaches, hooks;
	bool attached;
	pid_t pid;

	(void)state;
	t1 = open_tp(h, "vm1");
	fake_block_next(v0);
	pid = spawn_guest(h, "vm0");
	/* The child's first access is now inside the vGPU, which holds it. */
	assert_true(fake_wait_entered(v0));
	/* Meanwhile the daemon serves other guests. */
	for (uint32_t i = 0; i < 100; i++) {
		gpuvm_tp_wr32(t1, 0x20, i);
		assert_int_equal(gpuvm_tp_rd32(t1, 0x20), i);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	fake_release(v0);
	/* The server finishes the orphaned request, sees the guest gone, detaches. */
	assert_true(fake_wait_detaches(v0, 1));
	fake_state(v0, &attached, &detaches, &hooks);
	assert_false(attached);
	assert_int_equal(hooks, 0);
	/* The vGPU takes a new guest; the other guest never noticed. */
	t0 = open_tp(h, "vm0");
	gpuvm_tp_wr32(t0, 0x10, 0x42);
	assert_int_equal(gpuvm_tp_rd32(t0, 0x10), 0x42);
	assert_int_equal(gpuvm_tp_rd32(t1, 0x20), 99);
	gpuvm_transport_close(t0);
	gpuvm_transport_close(t1);
	assert_true(fake_wait_detaches(v0, 2));
	host_down(h);
}

static void test_guest_exits_normally(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v0 = fake_vgpu(h, "vm0");
	int status;
	pid_t pid;

	(void)state;
	pid = spawn_guest(h, "vm0");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(fake_wait_detaches(v0, 1));
	host_down(h);
}

static void test_vgpu_destroyed_under_guest(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v0 = fake_vgpu(h, "vm0");
	struct gpuvm_transport *t;
	uint32_t buf[4];
	int detaches, hooks;
	bool attached;

	(void)state;
	t = open_tp(h, "vm0");
	gpuvm_tp_wr32(t, 0, 1);
	fake_destroy(v0);       /* the hook stops the server before returning */
	fake_state(v0, &attached, &detaches, &hooks);
	assert_int_equal(hooks, 1);
	assert_int_equal(detaches, 0);
	/* The guest sees a surprise removal: all ones, -EPIPE, and no hang. */
	assert_int_equal(gpuvm_tp_rd32(t, 0), 0xffffffffu);
	assert_int_equal(t->ops->check(t), -EPIPE);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, 0, buf, sizeof(buf)), -EPIPE);
	assert_int_equal(buf[0], 0xffffffffu);
	gpuvm_transport_close(t);
	/* The claim was the core's to release: nobody detached. */
	fake_state(v0, &attached, &detaches, &hooks);
	assert_int_equal(detaches, 0);
	host_down(h);
}

static void test_daemon_stops_under_guest(void **state)
{
	struct fake_host *h = host_up();
	struct gpuvm_transport *t;

	(void)state;
	t = open_tp(h, "vm1");
	gpuvm_tp_wr32(t, 0, 1);
	assert_int_equal(t->ops->check(t), 0);
	fake_listener_stop(h);
	assert_int_equal(fake_vgpu(h, "vm1")->detaches, 1);
	assert_int_equal(t->ops->check(t), -EPIPE);
	assert_int_equal(gpuvm_tp_rd32(t, 0), 0xffffffffu);
	gpuvm_transport_close(t);
	host_down(h);
}

/* ---- BAR pages: trapped and remapped ---------------------------------------------- */
static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_bar_trapped_and_direct(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");
	struct gpuvm_transport *t;
	uint8_t out[4096 + 100], in[sizeof(out)];
	uint64_t calls;

	(void)state;
	t = open_tp(h, "vm0");
	/* BAR1 page 3 -> VRAM page 10, page 4 traps. */
	fake_remap(v, 1, 3 * 4096, 10);
	fill(out, sizeof(out), 1);
	calls = __atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR1, 3 * 4096, out, sizeof(out)), 0);
	/* 4096 bytes went straight to VRAM page 10, the last 100 through 13 ioreqs (12x8 + 4). */
	assert_memory_equal(v->vram + 10 * 4096, out, 4096);
	assert_memory_equal(v->vram + 4 * 4096, out + 4096, 100);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED) - calls, 13);
	assert_int_equal(v->last.size, 4);
	assert_int_equal(v->last.bar, 1);
	assert_int_equal(v->last.offset, 4 * 4096 + 96);
	memset(in, 0, sizeof(in));
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, 3 * 4096, in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(in));

	/* The entry is read on every access: unmap page 3 and the same read traps. */
	fake_remap(v, 1, 3 * 4096, -1);
	calls = __atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, 3 * 4096, in, 4096), 0);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED) - calls, 512);
	assert_int_equal(v->last.size, 8);
	/* The fake's BAR1 reaches VRAM one to one: page 3, not 10. */
	assert_memory_equal(in, v->vram + 3 * 4096, 4096);

	/* Unaligned edges: 1- and 2-byte accesses only where 4/8 cannot be used. */
	fill(out, 11, 50);
	calls = __atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR1, 0x5003, out, 11), 0);
	/* 0x5003:1 0x5004:4 0x5008:4 0x500c:2 */
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED) - calls, 4);
	assert_memory_equal(v->vram + 0x5003, out, 11);

	/* BAR3: its entries follow BAR1's. */
	fake_remap(v, 3, 2 * 4096, 7);
	fill(out, 64, 9);
	calls = __atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR3, 2 * 4096 + 64, out, 64), 0);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED), calls);
	assert_memory_equal(v->vram + 7 * 4096 + 64, out, 64);

	/* Ranges outside the BAR. */
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR1, FAKE_BAR1 - 4, in, 8), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR3, FAKE_BAR3, in, 1), -EINVAL);
	assert_int_equal(t->ops->bar_read(t, GPUVM_BAR0, 0, in, 4), -EINVAL);
	gpuvm_transport_close(t);
	assert_true(fake_wait_detaches(v, 1));
	host_down(h);
}

static void test_bar_map(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");
	struct gpuvm_transport *t;
	uint8_t *p, *p2;

	(void)state;
	t = open_tp(h, "vm0");
	for (unsigned i = 0; i < 4; i++)
		fake_remap(v, 1, (20 + i) * 4096, 40 + i);
	p = t->ops->bar_map(t, GPUVM_BAR1, 20 * 4096 + 5, 4 * 4096 - 5);
	assert_non_null(p);
	p[0] = 0x5a;
	p[4 * 4096 - 6] = 0xa5;
	assert_int_equal(v->vram[40 * 4096 + 5], 0x5a);
	assert_int_equal(v->vram[44 * 4096 - 1], 0xa5);
	/* The same pointer arithmetic for a sub-range. */
	p2 = t->ops->bar_map(t, GPUVM_BAR1, 22 * 4096, 4096);
	assert_ptr_equal(p2, p - 5 + 2 * 4096);
	/* One page too many (page 24 traps), or not contiguous: no mapping. */
	assert_null(t->ops->bar_map(t, GPUVM_BAR1, 20 * 4096, 5 * 4096));
	fake_remap(v, 1, 22 * 4096, 90);
	assert_null(t->ops->bar_map(t, GPUVM_BAR1, 20 * 4096, 4 * 4096));
	assert_null(t->ops->bar_map(t, GPUVM_BAR1, FAKE_BAR1, 4096));
	assert_null(t->ops->bar_map(t, GPUVM_BAR0, 0, 4096));
	gpuvm_transport_close(t);
	host_down(h);
}

/* What the guest is given cannot be resized, and the table cannot be written. */
static void test_shared_files_sealed(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");
	struct gpuvm_local_client c;
	int seals;

	(void)state;
	client_connect(h, &c, "vm0");
	assert_true(c.info.flags & GPUVM_LOCAL_F_DIRECT);
	assert_int_equal(c.info.nparts, 2);
	assert_int_equal(c.info.vram_size, FAKE_VRAM);
	assert_int_equal(c.info.bar1_pages, FAKE_BAR1 / 4096);
	seals = fcntl(v->remap_fd, F_GET_SEALS);
	assert_true((seals & (F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) ==
		    (F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
	for (int i = 0; i < 2; i++) {
		seals = fcntl(v->part_fd[i], F_GET_SEALS);
		assert_true((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW));
		assert_int_equal(ftruncate(v->part_fd[i], 0), -1);
	}
	/* The guest's view of the table is read-only for good. */
	assert_int_equal(mprotect((void *)c.remap, 4096, PROT_READ | PROT_WRITE), -1);
	/* The daemon's writable view still works and the guest sees it. */
	fake_remap(v, 1, 0, 3);
	assert_int_equal(__atomic_load_n(&c.remap[0], __ATOMIC_ACQUIRE), 4);
	/* The partition mapping is shared both ways. */
	c.vram[5 * 4096] = 0x11;
	assert_int_equal(v->vram[5 * 4096], 0x11);
	gpuvm_local_disconnect(&c);
	host_down(h);
}

/* VRAM files that cannot be sealed are never handed out: every BAR page traps. */
static void test_unsealable_partition_traps(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "unsealed0");
	struct gpuvm_local_client c;
	struct gpuvm_transport *t;
	uint64_t calls;
	uint32_t x = 0xfeedf00d;

	(void)state;
	client_connect(h, &c, "unsealed0");
	assert_false(c.info.flags & GPUVM_LOCAL_F_DIRECT);
	assert_int_equal(c.info.nfds, 3);
	assert_null(c.remap);
	assert_null(c.vram);
	gpuvm_local_disconnect(&c);
	assert_true(fake_wait_detaches(v, 1));
	pthread_mutex_lock(&h->lock);
	assert_non_null(strstr(h->lastlog, "left vGPU unsealed0"));
	pthread_mutex_unlock(&h->lock);

	t = open_tp(h, "unsealed0");
	fake_remap(v, 1, 0, 6);
	calls = __atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED);
	assert_int_equal(t->ops->bar_write(t, GPUVM_BAR1, 0, &x, 4), 0);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED) - calls, 1);
	assert_null(t->ops->bar_map(t, GPUVM_BAR1, 0, 4096));
	gpuvm_transport_close(t);
	host_down(h);
}

/* ---- misbehaving guests ------------------------------------------------------------ */
static int raw_connect(struct fake_host *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->path);
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return s;
}

/* Send msg; return the reply's status (the reply carries no fds). */
static int raw_hello(struct fake_host *h, const void *msg, size_t len, char *why, size_t whylen)
{
	struct gpuvm_local_reply r;
	int s = raw_connect(h);
	ssize_t n;
	char b;

	assert_int_equal(send(s, msg, len, 0), (ssize_t)len);
	assert_true(fake_wait_fd(s, 10000));
	n = recv(s, &r, sizeof(r), 0);
	assert_int_equal(n, sizeof(r));
	assert_int_equal(r.magic, GPUVM_LOCAL_MAGIC);
	assert_int_equal(r.nfds, 0);
	snprintf(why, whylen, "%s", r.message);
	/* Then the daemon hangs up. */
	assert_true(fake_wait_fd(s, 10000));
	assert_int_equal(recv(s, &b, 1, 0), 0);
	close(s);
	return r.status;
}

static void test_bad_hellos(void **state)
{
	struct fake_host *h = host_up();
	struct gpuvm_local_hello hello;
	char why[GPUVM_LOCAL_MSG_MAX], junk[200];
	struct gpuvm_local_client c;

	(void)state;
	memset(junk, 0x41, sizeof(junk));
	assert_int_equal(raw_hello(h, junk, 10, why, sizeof(why)), -EPROTO);
	assert_int_equal(raw_hello(h, junk, sizeof(junk), why, sizeof(why)), -EPROTO);

	memset(&hello, 0, sizeof(hello));
	hello.magic = GPUVM_LOCAL_MAGIC;
	hello.version = GPUVM_LOCAL_VERSION;
	hello.size = sizeof(hello);
	strcpy(hello.name, "vm0");
	hello.version = 99;
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -EPROTONOSUPPORT);
	assert_non_null(strstr(why, "version 99"));
	hello.version = GPUVM_LOCAL_VERSION;
	hello.flags = 1;
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -EPROTO);
	hello.flags = 0;
	hello.size = 40;
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -EPROTO);
	hello.size = sizeof(hello);
	strcpy(hello.name, "../etc");
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -EINVAL);
	memset(hello.name, 'x', sizeof(hello.name));    /* not terminated */
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -EINVAL);
	strcpy(hello.name, "ghost");
	assert_int_equal(raw_hello(h, &hello, sizeof(hello), why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "no vGPU named ghost");

	/* Connections that never say anything: the oldest are dropped beyond the limit. */
	{
		int idle[40];

		for (int i = 0; i < 40; i++)
			idle[i] = raw_connect(h);
		/* The earliest ones were closed by the daemon. */
		assert_true(fake_wait_fd(idle[0], 10000));
		for (int i = 0; i < 40; i++)
			close(idle[i]);
	}
	/* And none of it disturbed a real guest. */
	client_connect(h, &c, "vm0");
	gpuvm_local_disconnect(&c);
	assert_true(fake_wait_detaches(fake_vgpu(h, "vm0"), 1));
	host_down(h);
}

/* A guest writing garbage to its ioreq page gets denials and nothing else. */
static void test_garbage_page_denied(void **state)
{
	struct fake_host *h = host_up();
	struct fake_vgpu *v = fake_vgpu(h, "vm0");
	struct local_server_stats st;
	struct gpuvm_local_client c;
	uint64_t val;

	(void)state;
	client_connect(h, &c, "vm0");
	val = 0;
	assert_int_equal(gpuvm_local_io(&c, 0x42, 4, GPUVM_IOREQ_READ, &val), 0);
	assert_int_equal(val, 0xffffffffu);
	val = 1;
	assert_int_equal(gpuvm_local_io(&c, GPUVM_LOCAL_BAR1_BASE + FAKE_BAR1, 8,
					GPUVM_IOREQ_WRITE, &val), 0);
	assert_int_equal(gpuvm_local_io(&c, GPUVM_LOCAL_BAR0_BASE, 6, GPUVM_IOREQ_READ, &val), 0);
	assert_int_equal(val, ~0ull);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED), 0);
	assert_int_equal(fake_stats(h, "vm0", &st), 0);
	assert_int_equal(st.denied, 3);
	assert_int_equal(st.deny[LOCAL_DENY_ADDR], 2);
	assert_int_equal(st.deny[LOCAL_DENY_SIZE], 1);
	/* Junk states, then the whole page scribbled over. */
	{
		uint64_t *w = gpuvm_local_req_words(c.page), one = 1;

		__atomic_store_n(&w[3], ~0ull, __ATOMIC_RELEASE);
		assert_int_equal(write(c.fd[1], &one, sizeof(one)), sizeof(one));
		memset(c.page, 0xff, GPUVM_LOCAL_PAGE_SIZE);
		assert_int_equal(write(c.fd[1], &one, sizeof(one)), sizeof(one));
	}
	/* The guest is still attached; the daemon never called the vGPU for it. */
	assert_int_equal(fake_stats(h, "vm0", &st), 0);
	assert_int_equal(__atomic_load_n(&v->mmio_calls, __ATOMIC_RELAXED), 0);
	gpuvm_local_disconnect(&c);
	assert_true(fake_wait_detaches(v, 1));
	host_down(h);
}

static void test_socket_in_use_and_stale(void **state)
{
	struct fake_host *h = host_up();
	struct local_listener_config cfg = { .path = h->path };
	struct local_listener *l2 = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256], stale[100];
	int s;

	(void)state;
	/* A second listener on a live socket is refused. */
	assert_int_equal(local_listener_start(&h->ops, h, &cfg, &l2, err, sizeof(err)), -EADDRINUSE);
	assert_null(l2);
	assert_non_null(strstr(err, "another daemon"));

	/* A stale socket file (its owner died) is replaced. */
	snprintf(stale, sizeof(stale), "%s/stale.guest", h->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	cfg.path = stale;
	assert_int_equal(local_listener_start(&h->ops, h, &cfg, &l2, err, sizeof(err)), 0);
	local_listener_stop(l2);
	assert_int_equal(access(stale, F_OK), -1);
	host_down(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_roundtrip),
		cmocka_unit_test(test_reattach_immediately),
		cmocka_unit_test(test_env_socket_path),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_unknown_vgpu),
		cmocka_unit_test(test_second_guest_busy),
		cmocka_unit_test(test_guest_killed_mid_request),
		cmocka_unit_test(test_guest_exits_normally),
		cmocka_unit_test(test_vgpu_destroyed_under_guest),
		cmocka_unit_test(test_daemon_stops_under_guest),
		cmocka_unit_test(test_bar_trapped_and_direct),
		cmocka_unit_test(test_bar_map),
		cmocka_unit_test(test_shared_files_sealed),
		cmocka_unit_test(test_unsealable_partition_traps),
		cmocka_unit_test(test_bad_hellos),
		cmocka_unit_test(test_garbage_page_denied),
		cmocka_unit_test(test_socket_in_use_and_stale),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
