/*
 * The guest side of the handshake against a hostile or broken daemon: a
 * thread of this test plays gpuvmd and sends crafted replies.  The client
 * must refuse every inconsistent reply (never map a file smaller than
 * announced, which would SIGBUS later), never hang, and leak no fd.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "gpuvm_local.h"

enum twist {
	GOOD,
	BAD_MAGIC,
	SHORT_MSG,
	FDS_MISSING,
	EXTRA_FDS,
	SMALL_PAGE,
	PARTS_GAP,
	PARTS_SUM,
	PART_FILE_SMALL,
	BAR_TOO_BIG,
	REMAP_SHORT,
	WRONG_VERSION,
	REFUSE,
	HANG_UP,
	SILENT,
};

struct fake_daemon {
	char dir[64];
	char path[108];
	int lfd;
	enum twist twist;
	pthread_t thread;
	int quit_fd;            /* SILENT: hold the connection until told */
};

static int memfd_of(size_t len)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static void *daemon_main(void *arg)
{
	struct fake_daemon *f = arg;
	struct gpuvm_local_hello h;
	struct gpuvm_local_reply r;
	int c = accept(f->lfd, NULL, NULL), fds[8], nfds = 0;
	size_t len = sizeof(r);

	if (c < 0)
		return NULL;
	if (recv(c, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		goto out;
	if (f->twist == HANG_UP)
		goto out;
	if (f->twist == SILENT) {
		struct pollfd p = { .fd = f->quit_fd, .events = POLLIN };

		poll(&p, 1, 10000);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.magic = GPUVM_LOCAL_MAGIC;
	r.version = GPUVM_LOCAL_VERSION;
	r.size = sizeof(r);
	r.flags = GPUVM_LOCAL_F_DIRECT;
	r.page_size = r.ioreq_len = GPUVM_LOCAL_PAGE_SIZE;
	r.bar_base[0] = GPUVM_LOCAL_BAR0_BASE;
	r.bar_base[1] = GPUVM_LOCAL_BAR1_BASE;
	r.bar_base[3] = GPUVM_LOCAL_BAR3_BASE;
	r.bar_size[0] = 16u << 20;
	r.bar_size[1] = 1u << 20;
	r.bar_size[3] = 64u << 10;
	r.vram_size = 2u << 20;
	r.bar1_pages = 256;
	r.bar3_pages = 16;
	r.remap_len = 4 * 272;
	r.nparts = 2;
	r.part[0] = (struct gpuvm_local_part){ .gpa = 0, .len = 1u << 20 };
	r.part[1] = (struct gpuvm_local_part){ .gpa = 1u << 20, .len = 1u << 20 };
	fds[nfds++] = memfd_of(f->twist == SMALL_PAGE ? 100 : GPUVM_LOCAL_PAGE_SIZE);
	fds[nfds++] = eventfd(0, EFD_CLOEXEC);
	fds[nfds++] = eventfd(0, EFD_CLOEXEC);
	fds[nfds++] = memfd_of(f->twist == REMAP_SHORT ? 16 : 4 * 272);
	fds[nfds++] = memfd_of(1u << 20);
	fds[nfds++] = memfd_of(f->twist == PART_FILE_SMALL ? 4096 : 1u << 20);
	if (f->twist == EXTRA_FDS)
		fds[nfds++] = memfd_of(4096);
	r.nfds = 6;
	switch (f->twist) {
	case BAD_MAGIC: r.magic ^= 1; break;
	case SHORT_MSG: len = offsetof(struct gpuvm_local_reply, part); break;
	case FDS_MISSING: nfds = 4; break;
	case PARTS_GAP: r.part[1].gpa += 4096; break;
	case PARTS_SUM: r.vram_size += 4096; break;
	case BAR_TOO_BIG: r.bar_size[1] = GPUVM_LOCAL_BAR_WINDOW * 2; break;
	case WRONG_VERSION: r.version = 7; break;
	case REFUSE:
		r.status = -EBUSY;
		snprintf(r.message, sizeof(r.message), "vGPU x already has a guest");
		nfds = 0;
		break;
	default: break;
	}
	{
		union {
			char buf[CMSG_SPACE(sizeof(fds))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = &r, .iov_len = len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (nfds) {
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			msg.msg_control = u.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
		}
		sendmsg(c, &msg, MSG_NOSIGNAL);
	}
	for (int i = 0; i < 7 && i < (f->twist == EXTRA_FDS ? 7 : 6); i++)
		close(fds[i]);
	if (f->twist == GOOD) {
		char b;

		recv(c, &b, 1, 0);      /* until the client disconnects */
	}
out:
	close(c);
	return NULL;
}

static void fd_start(struct fake_daemon *f, enum twist twist)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->twist = twist;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gpuvm-lc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/g.sock.guest", f->dir);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->quit_fd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(pthread_create(&f->thread, NULL, daemon_main, f), 0);
}

static void fd_stop(struct fake_daemon *f)
{
	uint64_t one = 1;

	assert_int_equal(write(f->quit_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(f->thread, NULL);
	close(f->quit_fd);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int try_connect(enum twist twist, char *err, size_t errlen)
{
	struct gpuvm_local_client c;
	struct fake_daemon f;
	int ret;

	fd_start(&f, twist);
	memset(&c, 0, sizeof(c));
	c.timeout_ms = 300;
	ret = gpuvm_local_connect(&c, f.path, "x", err, errlen);
	if (!ret) {
		assert_non_null(c.page);
		assert_non_null(c.vram);
		c.vram[(2u << 20) - 1] = 1;     /* the whole partition is mapped */
		assert_int_equal(c.remap[271], 0);
		gpuvm_local_disconnect(&c);
	}
	fd_stop(&f);
	return ret;
}

static void test_replies(void **state)
{
	static const struct {
		enum twist twist;
		int want;
	} cases[] = {
		{ GOOD, 0 },
		{ BAD_MAGIC, -EPROTO },
		{ SHORT_MSG, -EPROTO },
		{ FDS_MISSING, -EPROTO },
		{ EXTRA_FDS, -EPROTO },
		{ SMALL_PAGE, -EPROTO },
		{ PARTS_GAP, -EPROTO },
		{ PARTS_SUM, -EPROTO },
		{ PART_FILE_SMALL, -EPROTO },
		{ BAR_TOO_BIG, -EPROTO },
		{ REMAP_SHORT, -EPROTO },
		{ WRONG_VERSION, -EPROTONOSUPPORT },
		{ REFUSE, -EBUSY },
		{ HANG_UP, -EPIPE },
		{ SILENT, -ETIMEDOUT },
	};
	int before = count_fds();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int got = try_connect(cases[i].twist, err, sizeof(err));

		if (got != cases[i].want)
			fail_msg("case %zu: got %d (%s), want %d", i, got, err, cases[i].want);
		if (cases[i].twist == REFUSE)
			assert_string_equal(err, "vGPU x already has a guest");
		assert_int_equal(count_fds(), before);
	}
}

static void test_no_daemon(void **state)
{
	struct gpuvm_local_client c;
	char err[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(gpuvm_local_connect(&c, "/nonexistent/dir/g.sock.guest", "x", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "is gpuvmd running"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_no_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
