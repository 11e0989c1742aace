/*
 * gpuvmd in-process: a real daemon (gpusim, vGPU core, control socket) on
 * a temp socket, its loop on a thread of the test, driven over the socket
 * like gpuvmctl would.  Covers the vGPU lifecycle, requests that must fail
 * without changing anything, clients that misbehave, the pidfile and
 * socket guards, peer credentials, shutdown, and the fd-watch API.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "gpu_hw.h"
#include "util_daemon.h"

static int setup(void **state)
{
	*state = td_start(NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	td_free(*state);
	return 0;
}

static struct json_object *obj_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

/* ---- Lifecycle -------------------------------------------------------------------- */

static void test_version(void **state)
{
	struct json_object *r = td_ok(*state, "{\"op\":\"version\"}\n");
	struct json_object *ops = obj_get(r, "ops");
	bool has_create = false;

	assert_int_equal(ctl_json_u64(r, "protocol"), CTL_PROTOCOL_VERSION);
	assert_string_equal(ctl_json_str(r, "daemon"), "gpuvmd");
	for (size_t i = 0; i < json_object_array_length(ops); i++)
		has_create |= !strcmp(json_object_get_string(json_object_array_get_idx(ops, i)), "create");
	assert_true(has_create);
	json_object_put(r);
}

static void test_create_list_info_destroy(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *r, *v, *arr;
	char mode[CTL_MODE_MAX], err[CTL_ERR_MAX];
	struct vgpu_info info;

	r = td_ok(t, "{\"op\":\"create\",\"name\":\"vm1\",\"vram\":\"64M\",\"channels\":4}\n");
	v = obj_get(r, "vgpu");
	assert_int_equal(ctl_info_from_json(v, &info, mode, sizeof(mode), err, sizeof(err)), 0);
	assert_string_equal(info.name, "vm1");
	assert_string_equal(mode, "full");
	assert_int_equal(info.vram_size, 64 * T_MIB);
	assert_int_equal(info.channels, 4);
	assert_false(info.attached);
	json_object_put(r);

	r = td_ok(t, "{\"op\":\"create\",\"name\":\"vm2\"}\n");   /* the defaults */
	v = obj_get(r, "vgpu");
	assert_int_equal(ctl_json_u64(v, "vram_size"), VGPU_DEFAULT_VRAM);
	assert_int_equal(ctl_json_u64(v, "channels"), VGPU_DEFAULT_CHANNELS);
	json_object_put(r);

	r = td_ok(t, "{\"op\":\"list\"}\n");
	arr = obj_get(r, "vgpus");
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(ctl_json_str(json_object_array_get_idx(arr, 0), "name"), "vm1");
	assert_string_equal(ctl_json_str(json_object_array_get_idx(arr, 1), "name"), "vm2");
	assert_int_not_equal(ctl_json_u64(json_object_array_get_idx(arr, 0), "id"),
			     ctl_json_u64(json_object_array_get_idx(arr, 1), "id"));
	assert_int_equal(ctl_json_u64(obj_get(r, "host"), "vram_free"),
			 T_FREE_VRAM - 64 * T_MIB - VGPU_DEFAULT_VRAM);
	assert_int_equal(ctl_json_u64(obj_get(r, "host"), "vram_total"), 512 * T_MIB);
	assert_int_equal(ctl_json_u64(obj_get(r, "host"), "vgpus"), 2);
	json_object_put(r);

	r = td_ok(t, "{\"op\":\"info\",\"name\":\"vm1\"}\n");
	assert_int_equal(ctl_info_from_json(obj_get(r, "vgpu"), &info, mode, sizeof(mode),
					    err, sizeof(err)), 0);
	assert_int_equal(info.vram_size, 64 * T_MIB);
	json_object_put(r);

	json_object_put(td_ok(t, "{\"op\":\"reset\",\"name\":\"vm1\"}\n"));
	json_object_put(td_ok(t, "{\"op\":\"destroy\",\"name\":\"vm2\"}\n"));
	json_object_put(td_ok(t, "{\"op\":\"destroy\",\"name\":\"vm1\"}\n"));
	td_err(t, "{\"op\":\"info\",\"name\":\"vm1\"}\n", "no vGPU named 'vm1'");
	r = td_ok(t, "{\"op\":\"list\"}\n");
	assert_int_equal(json_object_array_length(obj_get(r, "vgpus")), 0);
	assert_int_equal(ctl_json_u64(obj_get(r, "host"), "vram_free"), T_FREE_VRAM);
	json_object_put(r);
}

/* Every one of these is refused with its message, and the state stays as it was. */
static void test_bad_requests_change_nothing(void **state)
{
	static const struct {
		const char *req;
		const char *want;
	} cases[] = {
		{ "{\"op\":\"create\",\"name\":\"vm1\",\"vram\":\"16M\"}\n", "already exists" },
		{ "{\"op\":\"create\",\"name\":\"a b\"}\n", "invalid character ' '" },
		{ "{\"op\":\"create\",\"name\":\"\"}\n", "must not be empty" },
		{ "{\"op\":\"create\",\"name\":\"abcdefghijklmnopqrstuvwxyz0123456\"}\n", "too long" },
		{ "{\"op\":\"create\",\"name\":\"big\",\"vram\":\"1G\"}\n", "not enough free VRAM" },
		{ "{\"op\":\"create\",\"name\":\"big\",\"vram\":\"4T\"}\n", "not enough free VRAM" },
		{ "{\"op\":\"create\",\"name\":\"odd\",\"vram\":\"24M\"}\n", "not a multiple of 16 MiB" },
		{ "{\"op\":\"create\",\"name\":\"c\",\"vram\":\"16M\",\"channels\":65}\n", "channels must be 1..64" },
		{ "{\"op\":\"create\",\"name\":\"c\",\"vram\":\"16M\",\"mode\":\"turbo\"}\n", "unknown mode 'turbo'" },
		{ "{\"op\":\"destroy\",\"name\":\"ghost\"}\n", "no vGPU named 'ghost'" },
		{ "{\"op\":\"reset\",\"name\":\"ghost\"}\n", "no vGPU named 'ghost'" },
		{ "{\"op\":\"check\",\"name\":\"ghost\"}\n", "no vGPU named 'ghost'" },
		{ "{\"op\":\"destroy\"}\n", "missing field 'name'" },
		{ "{\"op\":\"frob\"}\n", "unknown op 'frob'" },
		{ "{\"op\":\"list\",\"all\":true}\n", "unknown field 'all'" },
		{ "[\"create\",\"x\"]\n", "must be a JSON object" },
		{ "create x\n", "not valid JSON" },
		{ "{\"op\":\"destroy\",\"name\":\"vm1\"\n", "not valid JSON" },
	};
	struct tdaemon *t = *state;
	char *before, *after;

	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"vm1\",\"vram\":\"64M\"}\n"));
	before = td_state(t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		td_err(t, cases[i].req, cases[i].want);
		after = td_state(t);
		if (strcmp(before, after))
			fail_msg("%s changed the state:\n%s\n%s", cases[i].req, before, after);
		free(after);
	}
	free(before);
}

/* Exactly the free VRAM fits; one allocation unit more does not. */
static void test_vram_limit(void **state)
{
	struct tdaemon *t = *state;
	char req[128];

	snprintf(req, sizeof(req), "{\"op\":\"create\",\"name\":\"all\",\"vram\":%llu}\n",
		 (unsigned long long)(T_FREE_VRAM + VGPU_VRAM_ALIGN));
	td_err(t, req, "not enough free VRAM");
	snprintf(req, sizeof(req), "{\"op\":\"create\",\"name\":\"all\",\"vram\":%llu}\n",
		 (unsigned long long)T_FREE_VRAM);
	json_object_put(td_ok(t, req));
	td_err(t, "{\"op\":\"create\",\"name\":\"more\",\"vram\":\"16M\"}\n", "not enough free VRAM");
}

static void test_check(void **state)
{
	struct tdaemon *t = *state;
	struct json_object *r, *checks;

	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"a\",\"vram\":\"16M\"}\n"));
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"b\",\"vram\":\"32M\"}\n"));
	r = td_ok(t, "{\"op\":\"check\"}\n");
	assert_true(ctl_json_bool(r, "isolated"));
	checks = obj_get(r, "checks");
	assert_int_equal(json_object_array_length(checks), 3);
	assert_string_equal(ctl_json_str(json_object_array_get_idx(checks, 0), "scope"), "host");
	assert_string_equal(ctl_json_str(json_object_array_get_idx(checks, 2), "name"), "b");
	assert_true(ctl_json_bool(json_object_array_get_idx(checks, 2), "isolated"));
	json_object_put(r);
	r = td_ok(t, "{\"op\":\"check\",\"name\":\"a\"}\n");
	checks = obj_get(r, "checks");
	assert_int_equal(json_object_array_length(checks), 1);
	assert_string_equal(ctl_json_str(json_object_array_get_idx(checks, 0), "scope"), "vgpu");
	assert_true(ctl_json_bool(r, "isolated"));
	json_object_put(r);
}

/* ---- Clients that misbehave ------------------------------------------------------- */

static void test_garbage_client_does_not_disturb(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *bad = tc_open(t->sock);
	static const char junk[] = "\x00\xff\x7f{\"op\":\"cre\x01\x02 \xc3\x28 [[[[[";
	struct json_object *r;
	char *line;

	tc_send(bad, junk, sizeof(junk));       /* no newline: a line still open */
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"good\",\"vram\":\"16M\"}\n"));
	r = td_ok(t, "{\"op\":\"list\"}\n");
	assert_int_equal(json_object_array_length(obj_get(r, "vgpus")), 1);
	json_object_put(r);
	/* The garbage client gets its error once the line ends, and can go on. */
	tc_send_str(bad, "\n");
	line = tc_line(bad, T_TIMEOUT_MS);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"ok\":false"));
	free(line);
	r = tc_call(bad, "{\"op\":\"info\",\"name\":\"good\"}\n");
	assert_true(ctl_json_bool(r, "ok"));
	json_object_put(r);
	tc_close(bad);
}

static void test_oversized_line(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *c = tc_open(t->sock);
	size_t big = 100 << 10;
	char *junk = malloc(big);
	struct json_object *r;
	char *line;

	assert_non_null(junk);
	memset(junk, ' ', big);
	memcpy(junk, "{\"op\":\"create\",\"name\":\"huge\",\"pad\":\"", 36);
	tc_send(c, junk, big);
	tc_send_str(c, "\"}\n");
	line = tc_line(c, T_TIMEOUT_MS);
	assert_non_null(line);
	assert_non_null(strstr(line, "request too long"));
	free(line);
	/* One error only, and the connection still works. */
	r = tc_call(c, "{\"op\":\"list\"}\n");
	assert_true(ctl_json_bool(r, "ok"));
	assert_int_equal(json_object_array_length(obj_get(r, "vgpus")), 0);
	json_object_put(r);
	tc_close(c);
	free(junk);
}

static void test_disconnect_mid_line(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *c = tc_open(t->sock);
	struct json_object *r;

	tc_send_str(c, "{\"op\":\"create\",\"name\":\"half\",\"vram\":\"16M\"}");
	tc_close(c);    /* no newline: the request never happened */
	c = tc_open(t->sock);
	tc_send_str(c, "{\"op\":\"create\",\"name\":\"whole\",\"vram\":\"16M\"}\n");
	tc_close(c);    /* gone before its reply: the request still happened */
	td_err(t, "{\"op\":\"info\",\"name\":\"half\"}\n", "no vGPU named 'half'");
	r = td_ok(t, "{\"op\":\"info\",\"name\":\"whole\"}\n");
	json_object_put(r);
}

static void test_pipelined_and_blank_lines(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *c = tc_open(t->sock);
	char *l1, *l2, *l3;

	tc_send_str(c, "\n  \r\n{\"op\":\"create\",\"name\":\"p1\",\"vram\":\"16M\"}\n"
		    "{\"op\":\"create\",\"name\":\"p1\",\"vram\":\"16M\"}\r\n"
		    "{\"op\":\"destroy\",\"name\":\"p1\"}\n");
	l1 = tc_line(c, T_TIMEOUT_MS);
	l2 = tc_line(c, T_TIMEOUT_MS);
	l3 = tc_line(c, T_TIMEOUT_MS);
	assert_non_null(l1);
	assert_non_null(l2);
	assert_non_null(l3);
	assert_non_null(strstr(l1, "\"ok\":true"));
	assert_non_null(strstr(l2, "already exists"));
	assert_string_equal(l3, "{\"ok\":true}");
	free(l1);
	free(l2);
	free(l3);
	tc_close(c);
}

/* A client that sends and never reads stalls only itself. */
static void test_slow_client_does_not_block(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *slow = tc_open(t->sock);
	const char *req = "{\"op\":\"list\"}\n";
	const int n = 4000;     /* ~1.7 MB of replies: far more than the socket holds */
	struct json_object *r;
	int got = 0;
	char *line;

	size_t len = strlen(req);
	char *burst = malloc(len * n);

	/* One write of all requests: many tiny writes would each take a socket
	 * buffer of their own and block long before the daemon's high-water
	 * mark matters, whatever the daemon does. */
	assert_non_null(burst);
	for (int i = 0; i < n; i++)
		memcpy(burst + len * i, req, len);
	tc_send(slow, burst, len * n);
	free(burst);
	r = td_ok(t, "{\"op\":\"create\",\"name\":\"other\",\"vram\":\"16M\"}\n");
	json_object_put(r);
	/* Now drain: every request gets its reply, in order. */
	while ((line = tc_line(slow, T_TIMEOUT_MS))) {
		assert_non_null(strstr(line, "\"ok\":true"));
		free(line);
		if (++got == n)
			break;
	}
	assert_int_equal(got, n);
	tc_close(slow);
}

static void test_half_close(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *c = tc_open(t->sock);
	char *line;

	tc_send_str(c, "{\"op\":\"version\"}\n");
	shutdown(c->fd, SHUT_WR);
	line = tc_line(c, T_TIMEOUT_MS);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"protocol\":1"));
	free(line);
	assert_true(tc_closed(c, T_TIMEOUT_MS));
	tc_close(c);
}

static void test_too_many_clients(void **state)
{
	struct tdaemon *t = *state;
	struct tconn *c[CONTROL_MAX_CLIENTS + 1];
	struct json_object *r;
	char *line;

	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		c[i] = tc_open(t->sock);
		/* A round trip each, so the daemon has admitted it before the next. */
		json_object_put(tc_call(c[i], "{\"op\":\"version\"}\n"));
	}
	c[CONTROL_MAX_CLIENTS] = tc_open(t->sock);
	line = tc_line(c[CONTROL_MAX_CLIENTS], T_TIMEOUT_MS);
	assert_non_null(line);
	assert_non_null(strstr(line, "too many control clients"));
	free(line);
	assert_true(tc_closed(c[CONTROL_MAX_CLIENTS], T_TIMEOUT_MS));
	tc_close(c[CONTROL_MAX_CLIENTS]);
	/*
	 * A slot is given back when a client goes.  The round trip on c[1]
	 * starts after c[0]'s hang-up is pending, so the daemon has seen it
	 * by the time the next client connects.
	 */
	tc_close(c[0]);
	r = tc_call(c[1], "{\"op\":\"list\"}\n");
	assert_true(ctl_json_bool(r, "ok"));
	json_object_put(r);
	json_object_put(td_ok(t, "{\"op\":\"version\"}\n"));
	for (int i = 1; i < CONTROL_MAX_CLIENTS; i++)
		tc_close(c[i]);
}

/* ---- Socket, pidfile, permissions ------------------------------------------------------ */

static void test_socket_mode(void **state)
{
	struct tdaemon *t = *state;
	struct stat st;
	unsigned gid;

	assert_false(daemon_socket_group(t->d, &gid));
	assert_int_equal(stat(t->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
}

static void test_second_daemon_same_pidfile(void **state)
{
	struct tdaemon *t = *state;
	struct gpuvmd_config cfg = { .gpu_spec = "sim,vram=128M", .backend = "none" };
	char dir[64], sock[128], err[CTL_ERR_MAX], want[64];
	struct stat st;

	t_mkdtemp(dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/other.sock", dir);
	cfg.socket_path = sock;
	cfg.pidfile = t->pidfile;
	assert_null(daemon_create(&cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "another gpuvmd (pid %ld)", (long)getpid());
	if (!strstr(err, want))
		fail_msg("'%s' lacks '%s'", err, want);
	/* It touched nothing: no socket of its own, the first daemon's files intact. */
	assert_int_equal(stat(sock, &st), -1);
	assert_int_equal(stat(t->pidfile, &st), 0);
	json_object_put(td_ok(t, "{\"op\":\"version\"}\n"));
	t_rmdir(dir);
}

static void test_live_socket_refused(void **state)
{
	struct tdaemon *t = *state;
	struct gpuvmd_config cfg = { .gpu_spec = "sim,vram=128M", .backend = "none" };
	char dir[64], pidfile[128], err[CTL_ERR_MAX];

	t_mkdtemp(dir, sizeof(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/other.pid", dir);
	cfg.socket_path = t->sock;
	cfg.pidfile = pidfile;
	assert_null(daemon_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "in use by another process"));
	json_object_put(td_ok(t, "{\"op\":\"version\"}\n"));
	t_rmdir(dir);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct gpuvmd_config cfg = { .gpu_spec = "sim,vram=128M", .backend = "none" };
	char dir[64], sock[128], err[CTL_ERR_MAX];
	struct gpuvmd *d;
	int fd;

	(void)state;
	t_mkdtemp(dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/stale.sock", dir);
	/* A socket file nobody listens on: what a crashed daemon leaves. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(sock) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	cfg.socket_path = sock;
	d = daemon_create(&cfg, err, sizeof(err));
	if (!d)
		fail_msg("%s", err);
	daemon_destroy(d);
	assert_int_equal(access(sock, F_OK), -1);      /* removed on the way out */
	t_rmdir(dir);
}

static void test_non_socket_path_refused(void **state)
{
	struct gpuvmd_config cfg = { .gpu_spec = "sim,vram=128M", .backend = "none" };
	char dir[64], path[128], err[CTL_ERR_MAX];
	struct stat st;
	int fd;

	(void)state;
	t_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/precious", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	close(fd);
	cfg.socket_path = path;
	assert_null(daemon_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a socket"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	t_rmdir(dir);
}

static void test_bad_config(void **state)
{
	static const struct {
		const char *gpu, *backend, *group, *want;
	} cases[] = {
		{ "gpu9", "none", NULL, "unknown GPU" },
		{ "pci:0000:01:00.0", "none", NULL, "not supported by this build" },
		{ "sim,vram=64M", "none", NULL, "reserved VRAM" },
#ifdef GPUVM_HAVE_XEN  /* built: fails at start-up off Xen (skipped in a real dom0) */
		{ "sim,vram=128M", "xen", NULL, "not running in a Xen dom0" },
#else
		{ "sim,vram=128M", "xen", NULL, "not built" },
#endif
		{ "sim,vram=128M", "carrier-pigeon", NULL, "unknown backend" },
		{ "sim,vram=128M", "none", "no-such-group-gpuvm", "unknown group" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpuvmd_config cfg = { .gpu_spec = cases[i].gpu, .backend = cases[i].backend,
					     .group = cases[i].group };
		char dir[64], sock[128], err[CTL_ERR_MAX] = "";

		if (!strcmp(cases[i].backend, "xen") && access("/dev/xen/privcmd", F_OK) == 0)
			continue;       /* a real dom0: the Xen backend would start */
		t_mkdtemp(dir, sizeof(dir));
		snprintf(sock, sizeof(sock), "%s/s.sock", dir);
		cfg.socket_path = sock;
		assert_null(daemon_create(&cfg, err, sizeof(err)));
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		assert_int_equal(access(sock, F_OK), -1);
		t_rmdir(dir);
	}
}

static void test_peer_policy(void **state)
{
	struct control_policy none = { .self_uid = 1000 };
	struct control_policy grp = { .self_uid = 1000, .has_group = true, .group = 500 };
	gid_t groups[] = { 20, 500 };

	(void)state;
	assert_true(control_peer_allowed(&none, 0, 0, NULL, 0));
	assert_true(control_peer_allowed(&none, 1000, 1000, NULL, 0));
	assert_false(control_peer_allowed(&none, 1001, 500, groups, 2));
	assert_true(control_peer_allowed(&grp, 1001, 500, NULL, 0));
	assert_true(control_peer_allowed(&grp, 1001, 20, groups, 2));
	assert_false(control_peer_allowed(&grp, 1001, 20, groups, 1));
	assert_false(control_peer_allowed(&grp, 65534, 65534, NULL, 0));
}

/*
 * A child with other credentials connects (the socket made world-writable
 * so that only the SO_PEERCRED check stands in the way) and sends a
 * request.  Exit status: 0 served, 1 refused with "permission denied" and
 * closed, 2 anything else.
 */
static int child_connect_as(const char *sock, uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static char buf[4096];
	size_t len = 0;
	int fd;

	if (setgroups((size_t)ngroups, groups) || setgid(gid) || setuid(uid))
		return 2;
	if (strlen(sock) >= sizeof(addr.sun_path))
		return 2;
	memcpy(addr.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return 2;
	if (send(fd, "{\"op\":\"list\"}\n", 14, MSG_NOSIGNAL) != 14 && errno != EPIPE)
		return 2;
	alarm(10);      /* bounded: the parent's wait would catch a hang too */
	while (!memchr(buf, '\n', len)) {      /* one reply line */
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strstr(buf, "\"ok\":true"))
		return 0;
	return strstr(buf, "permission denied") ? 1 : 2;
}

static int run_peer(struct tdaemon *t, uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_connect_as(t->sock, uid, gid, groups, ngroups));
	status = t_wait_pid(pid, T_TIMEOUT_MS);
	assert_true(status >= 0 && WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void group_4242(struct gpuvmd_config *cfg, void *arg)
{
	(void)arg;
	cfg->group = "4242";
}

static void test_peer_credentials(void **state)
{
	struct tdaemon *t;
	gid_t member[] = { 4242 };
	gid_t stranger[] = { 4343 };

	(void)state;
	if (geteuid() != 0)
		skip();         /* needs to switch uid */
	t = td_start(group_4242, NULL);
	assert_int_equal(chmod(t->dir, 0755), 0);
	assert_int_equal(chmod(t->sock, 0666), 0);
	assert_int_equal(run_peer(t, 65534, 65534, stranger, 1), 1);
	assert_int_equal(run_peer(t, 65534, 65534, member, 1), 0);      /* supplementary */
	assert_int_equal(run_peer(t, 65534, 4242, stranger, 1), 0);     /* primary */
	assert_int_equal(run_peer(t, 0, 0, stranger, 1), 0);            /* root */
	json_object_put(td_ok(t, "{\"op\":\"version\"}\n"));
	td_free(t);
}

static void test_group_owns_socket(void **state)
{
	struct tdaemon *t;
	struct stat st;
	unsigned gid = 0;

	(void)state;
	if (geteuid() != 0)
		skip();         /* chown to another group needs root */
	t = td_start(group_4242, NULL);
	assert_true(daemon_socket_group(t->d, &gid));
	assert_int_equal(gid, 4242);
	assert_int_equal(stat(t->sock, &st), 0);
	assert_int_equal(st.st_gid, 4242);
	assert_int_equal(st.st_mode & 0777, 0660);
	td_free(t);
}

static void backend_local(struct gpuvmd_config *cfg, void *arg)
{
	(void)arg;
	cfg->backend = "local";
}

/* --backend local: the backend gets PATH.guest at start and drops it at shutdown. */
static void test_local_backend_hooked(void **state)
{
	struct tdaemon *t;
	char guest[160];
	struct stat st;

	(void)state;
	t = td_start(backend_local, NULL);
	snprintf(guest, sizeof(guest), "%s.guest", t->sock);
	assert_string_equal(daemon_guest_socket_path(t->d), guest);
	assert_int_equal(stat(guest, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	json_object_put(td_ok(t, "{\"op\":\"create\",\"name\":\"g\",\"vram\":\"16M\"}\n"));
	td_stop(t);
	assert_int_equal(daemon_vgpu_count(t->d), 0);
	assert_int_equal(access(guest, F_OK), -1);
	td_free(t);
}

/* ---- Shutdown ----------------------------------------------------------------------------- */

/* The VRAM at host physical address phys, through the hw's VRAM files. */
static void vram_io(struct gpuvmd *d, uint64_t phys, void *buf, size_t len, bool write)
{
	struct gpu_hw *hw = host_hw(daemon_host(d));
	uint64_t off, avail;
	int fd = hw->ops->vram_fd(hw, phys, &off, &avail);
	ssize_t n;

	assert_true(fd >= 0);
	assert_true(avail >= len);
	n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
	assert_int_equal(n, (ssize_t)len);
}

static void test_shutdown_destroys_everything(void **state)
{
	struct tdaemon *t = *state;
	static const char *const names[] = { "s1", "s2", "s3" };
	uint64_t base[3], total, largest;
	unsigned char pattern[4096], back[4096];

	memset(pattern, 0xab, sizeof(pattern));
	for (int i = 0; i < 3; i++) {
		char req[128];
		struct json_object *r;

		snprintf(req, sizeof(req), "{\"op\":\"create\",\"name\":\"%s\",\"vram\":\"32M\"}\n",
			 names[i]);
		r = td_ok(t, req);
		base[i] = ctl_json_u64(obj_get(r, "vgpu"), "vram_base");
		json_object_put(r);
		vram_io(t->d, base[i], pattern, sizeof(pattern), true);
	}
	json_object_put(td_ok(t, "{\"op\":\"shutdown\"}\n"));
	pthread_join(t->thread, NULL);  /* the loop ends by itself */
	t->running = false;
	assert_int_equal(t->run_ret, 0);
	assert_int_equal(daemon_vgpu_count(t->d), 0);
	host_vram_free(daemon_host(t->d), &total, &largest);
	assert_int_equal(total, T_FREE_VRAM);
	for (int i = 0; i < 3; i++) {
		vram_io(t->d, base[i], back, sizeof(back), false);
		for (size_t k = 0; k < sizeof(back); k++)
			if (back[k] == 0xab)
				fail_msg("partition of %s not scrubbed at +%zu", names[i], k);
	}
	{
		char why[256] = "";

		if (host_check_isolation(daemon_host(t->d), why, sizeof(why)))
			fail_msg("after shutdown: %s", why);
	}
	assert_int_equal(access(t->sock, F_OK), -1);
}

/* ---- The fd-watch API ----------------------------------------------------------------------- */

struct watch_test {
	int a[2], b[2], c[2];
	int a_calls, b_calls, c_calls;
	int c_saw_a_calls;
	bool dup_rejected;
};

static void on_c(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct watch_test *w = arg;

	(void)revents;
	(void)fd;
	w->c_calls++;
	w->c_saw_a_calls = w->a_calls;
	daemon_unwatch_fd(d, w->c[0]);
	daemon_unwatch_fd(d, w->a[0]);
	daemon_request_stop(d);
}

static void on_b(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct watch_test *w = arg;

	(void)d;
	(void)fd;
	(void)revents;
	w->b_calls++;
}

/*
 * First call: drop b and put a new pipe on b's fd number.  The loop must
 * not hand b's pending event to the new watch in the same iteration.
 */
static void on_a(struct gpuvmd *d, int fd, short revents, void *arg)
{
	struct watch_test *w = arg;
	char ch;

	(void)revents;
	assert_int_equal(read(fd, &ch, 1), 1);
	if (w->a_calls++ > 0)
		return;
	w->dup_rejected = daemon_watch_fd(d, w->a[0], POLLIN, on_a, w) < 0 && errno == EEXIST;
	daemon_unwatch_fd(d, w->b[0]);
	close(w->b[0]);
	assert_int_equal(pipe(w->c), 0);
	if (w->c[0] != w->b[0]) {       /* make the reuse certain */
		assert_int_equal(dup2(w->c[0], w->b[0]), w->b[0]);
		close(w->c[0]);
		w->c[0] = w->b[0];
	}
	assert_int_equal(write(w->c[1], "c", 1), 1);
	assert_int_equal(daemon_watch_fd(d, w->c[0], POLLIN, on_c, w), 0);
}

static void test_watch_fd_api(void **state)
{
	struct tdaemon *t = *state;
	struct watch_test w = { 0 };
	char err[CTL_ERR_MAX];
	struct gpuvmd *d;
	struct gpuvmd_config cfg = { .gpu_spec = "sim,vram=128M", .backend = "none" };
	char sock[160];

	/* A daemon of our own whose loop runs on this thread. */
	snprintf(sock, sizeof(sock), "%s/watch.sock", t->dir);
	cfg.socket_path = sock;
	d = daemon_create(&cfg, err, sizeof(err));
	if (!d)
		fail_msg("%s", err);
	assert_int_equal(pipe(w.a), 0);
	assert_int_equal(pipe(w.b), 0);
	assert_int_equal(write(w.a[1], "aa", 2), 2);
	assert_int_equal(write(w.b[1], "b", 1), 1);
	assert_int_equal(daemon_watch_fd(d, w.a[0], POLLIN, on_a, &w), 0);
	assert_int_equal(daemon_watch_fd(d, w.b[0], POLLIN, on_b, &w), 0);
	assert_int_equal(daemon_watch_fd_events(d, 9999, POLLIN), -1);
	daemon_unwatch_fd(d, 9999);     /* unknown: ignored */
	assert_int_equal(daemon_run(d), 0);
	assert_true(w.dup_rejected);
	assert_int_equal(w.b_calls, 0);
	assert_int_equal(w.c_calls, 1);
	assert_int_equal(w.c_saw_a_calls, 2);   /* c ran in the next iteration, after a again */
	daemon_destroy(d);
	close(w.a[0]);
	close(w.a[1]);
	close(w.b[1]);
	close(w.c[0]);
	close(w.c[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_list_info_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vram_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_client_does_not_disturb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_blank_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon_same_pidfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_socket_refused, setup, teardown),
		cmocka_unit_test(test_stale_socket_replaced),
		cmocka_unit_test(test_non_socket_path_refused),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_peer_policy),
		cmocka_unit_test(test_peer_credentials),
		cmocka_unit_test(test_group_owns_socket),
		cmocka_unit_test(test_local_backend_hooked),
		cmocka_unit_test_setup_teardown(test_shutdown_destroys_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_fd_api, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
