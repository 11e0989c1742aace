/*
 * Test helpers for gpuvmd (util_daemon.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "log.h"
#include "util_daemon.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

void t_mkdtemp(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, len, "%s/gpuvmd-test-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
}

void t_rmdir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* ---- In-process daemon ------------------------------------------------------------ */

static void *td_thread(void *arg)
{
	struct tdaemon *t = arg;

	t->run_ret = daemon_run(t->d);
	return NULL;
}

struct tdaemon *td_start(void (*cfg_edit)(struct gpuvmd_config *cfg, void *arg), void *arg)
{
	struct tdaemon *t = calloc(1, sizeof(*t));
	struct gpuvmd_config cfg = { 0 };
	char err[CTL_ERR_MAX];

	assert_non_null(t);
	/* The core logs every create/destroy at info: keep test output readable. */
	gpuvm_log_set_level(GPUVM_LOG_ERR);
	t_mkdtemp(t->dir, sizeof(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/gpuvmd.sock", t->dir);
	snprintf(t->pidfile, sizeof(t->pidfile), "%s/gpuvmd.pid", t->dir);
	cfg.gpu_spec = T_GPU_SPEC;
	cfg.socket_path = t->sock;
	cfg.pidfile = t->pidfile;
	cfg.backend = "none";
	if (cfg_edit)
		cfg_edit(&cfg, arg);
	t->d = daemon_create(&cfg, err, sizeof(err));
	if (!t->d)
		fail_msg("daemon_create: %s", err);
	assert_int_equal(pthread_create(&t->thread, NULL, td_thread, t), 0);
	t->running = true;
	return t;
}

void td_stop(struct tdaemon *t)
{
	if (!t->running)
		return;
	daemon_request_stop(t->d);
	pthread_join(t->thread, NULL);
	t->running = false;
}

void td_free(struct tdaemon *t)
{
	if (!t)
		return;
	td_stop(t);
	daemon_destroy(t->d);
	t_rmdir(t->dir);
	free(t);
}

/* ---- Client connections ---------------------------------------------------------- */

struct tconn *tc_open(const char *sock)
{
	struct tconn *c = malloc(sizeof(*c));
	char err[CTL_ERR_MAX];

	assert_non_null(c);
	c->len = 0;
	c->fd = ctl_client_connect(sock, err, sizeof(err));
	if (c->fd < 0)
		fail_msg("%s", err);
	return c;
}

void tc_close(struct tconn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

void tc_send(struct tconn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_msg("send: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

void tc_send_str(struct tconn *c, const char *s)
{
	tc_send(c, s, strlen(s));
}

/* Take one line out of the buffer, if there is one. */
static char *tc_take_line(struct tconn *c)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n;
	char *line;

	if (!nl)
		return NULL;
	n = (size_t)(nl - c->buf);
	line = malloc(n + 1);
	assert_non_null(line);
	memcpy(line, c->buf, n);
	line[n] = '\0';
	c->len -= n + 1;
	memmove(c->buf, nl + 1, c->len);
	return line;
}

/* One bounded read into the buffer: 1 got bytes, 0 EOF, -1 timeout or error. */
static int tc_fill(struct tconn *c, int64_t deadline)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms_left(deadline)) <= 0)
		return -1;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	c->len += (size_t)n;
	return n > 0;
}

char *tc_line(struct tconn *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char *line;

	while (!(line = tc_take_line(c))) {
		if (c->len == sizeof(c->buf) || tc_fill(c, deadline) <= 0)
			return NULL;
	}
	return line;
}

bool tc_closed(struct tconn *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms_left(deadline)) <= 0)
			return false;
		/* Replies sent before the close do not matter here. */
		n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

struct json_object *tc_call(struct tconn *c, const char *request)
{
	struct json_object *obj;
	char *line;

	tc_send_str(c, request);
	line = tc_line(c, T_TIMEOUT_MS);
	if (!line)
		fail_msg("no reply to %s", request);
	obj = json_tokener_parse(line);
	if (!obj || !json_object_is_type(obj, json_type_object))
		fail_msg("reply is not a JSON object: %s", line);
	free(line);
	return obj;
}

struct json_object *td_call(struct tdaemon *t, const char *request)
{
	struct tconn *c = tc_open(t->sock);
	struct json_object *obj = tc_call(c, request);

	tc_close(c);
	return obj;
}

struct json_object *td_ok(struct tdaemon *t, const char *request)
{
	struct json_object *obj = td_call(t, request);

	if (!ctl_json_bool(obj, "ok"))
		fail_msg("%s -> %s", request, json_object_to_json_string(obj));
	return obj;
}

void td_err(struct tdaemon *t, const char *request, const char *want)
{
	struct json_object *obj = td_call(t, request);
	struct json_object *ok;
	const char *msg = ctl_json_str(obj, "error");

	if (!json_object_object_get_ex(obj, "ok", &ok) || json_object_get_boolean(ok) ||
	    !msg || !strstr(msg, want))
		fail_msg("%s -> %s (wanted an error with '%s')", request,
			 json_object_to_json_string(obj), want);
	json_object_put(obj);
}

char *td_state(struct tdaemon *t)
{
	struct json_object *obj = td_ok(t, "{\"op\":\"list\"}\n");
	struct json_object *v, *h;
	char *s;

	assert_true(json_object_object_get_ex(obj, "vgpus", &v));
	assert_true(json_object_object_get_ex(obj, "host", &h));
	assert_true(asprintf(&s, "%s %s", json_object_to_json_string(v),
			     json_object_to_json_string(h)) > 0);
	json_object_put(obj);
	return s;
}

/* ---- Processes ------------------------------------------------------------------------ */

int t_wait_pid(pid_t pid, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = -1;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 || ms_left(deadline) == 0) {
			status = -1;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			poll(&p, 1, ms_left(deadline));
		} else {
			/* Kernels before 5.3: a short nap, still bounded by the deadline. */
			struct timespec ts = { 0, 2 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return status;
}

char *t_read_all(int fd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (len + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
		if (poll(&p, 1, ms_left(deadline)) <= 0)
			break;
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static char *read_file(FILE *f)
{
	long n;
	char *s;

	fflush(f);
	n = ftell(f);
	assert_true(n >= 0);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	rewind(f);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	return s;
}

int t_capture(int (*fn)(void *arg), void *arg, char **out, char **err)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int saved_out, saved_err, r;

	assert_non_null(fo);
	assert_non_null(fe);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r = fn(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	fseek(fo, 0, SEEK_END);
	fseek(fe, 0, SEEK_END);
	*out = read_file(fo);
	*err = read_file(fe);
	fclose(fo);
	fclose(fe);
	return r;
}
