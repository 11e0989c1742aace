/* The benchmark's own gpuvmd: a child on a private socket, and its vGPUs. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "overhead.h"

const char *const ovh_config_names[OVH_NCONFIGS] = {
	[OVH_NATIVE] = "native",
	[OVH_FULL_NOOPT] = "full (no optimizations)",
	[OVH_FULL] = "full (optimized)",
	[OVH_PV_NAIVE] = "pv-naive",
	[OVH_PV] = "pv",
};

static const char *const vgpu_names[OVH_NCONFIGS] = {
	[OVH_FULL_NOOPT] = "full-noopt", [OVH_FULL] = "full",
	[OVH_PV_NAIVE] = "pv-naive", [OVH_PV] = "pv",
};

const char *ovh_vgpu_name(enum ovh_config c)
{
	return vgpu_names[c];
}

/* $GPUVM_BIN/gpuvmd, else ../bin/gpuvmd next to this program. */
static void daemon_path(const char *argv0, char *out, size_t len)
{
	const char *env = getenv("GPUVM_BIN");
	char self[4096];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s/gpuvmd", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		snprintf(self, sizeof(self), "%s", argv0);
	else
		self[n] = '\0';
	snprintf(out, len, "%s/../bin/gpuvmd", dirname(self));
}

static int wait_ready(struct ovh_daemon *d)
{
	char err[256];

	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10 * 1000000 };
		int fd = ctl_client_connect(d->sock, err, sizeof(err));

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int ovh_daemon_start(struct ovh_daemon *d, const char *argv0)
{
	char path[4200];

	daemon_path(argv0, path, sizeof(path));
	snprintf(d->dir, sizeof(d->dir), "/tmp/gpuvm-overhead-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->sock, sizeof(d->sock), "%s/gpuvmd.sock", d->dir);
	snprintf(d->guest_sock, sizeof(d->guest_sock), "%s.guest", d->sock);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		execl(path, path, "--foreground", "--socket", d->sock, "--gpu", "sim,vram=2G",
		      "--log-level", "error", (char *)NULL);
		fprintf(stderr, "gpuvm-overhead: cannot run %s: %s (set GPUVM_BIN)\n", path, strerror(errno));
		_exit(127);
	}
	return wait_ready(d);
}

void ovh_daemon_stop(struct ovh_daemon *d)
{
	char pidfile[200];

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
	}
	unlink(d->sock);
	snprintf(pidfile, sizeof(pidfile), "%s/gpuvmd.pid", d->dir);
	unlink(pidfile);
	rmdir(d->dir);
}

static void read_counters(struct json_object *reply, struct ovh_counters *c)
{
	struct json_object *v;

	if (!c || !json_object_object_get_ex(reply, "vgpu", &v))
		return;
	c->traps = ctl_json_u64(v, "mmio_reads") + ctl_json_u64(v, "mmio_writes");
	c->hypercalls = ctl_json_u64(v, "pv_doorbells");
	c->reshadows = ctl_json_u64(v, "reshadows");
}

int ovh_daemon_call(struct ovh_daemon *d, const char *json, struct ovh_counters *c,
		    char *err, size_t errlen)
{
	int fd = ctl_client_connect(d->sock, err, errlen);
	char *reply = NULL;
	struct json_object *obj = NULL;
	int ret = -1;

	if (fd < 0)
		return -1;
	if (!ctl_client_call(fd, json, &reply, 30000, err, errlen) &&
	    ctl_reply_parse(reply, strlen(reply), &obj, err, errlen) == 0) {
		read_counters(obj, c);
		ret = 0;
	}
	json_object_put(obj);
	free(reply);
	close(fd);
	return ret;
}

int ovh_daemon_setup_vgpus(struct ovh_daemon *d, char *err, size_t errlen)
{
	static const char *const modes[OVH_NCONFIGS] = {
		[OVH_FULL_NOOPT] = "full", [OVH_FULL] = "full", [OVH_PV_NAIVE] = "pv-naive", [OVH_PV] = "pv",
	};
	char req[256];

	for (int c = OVH_FULL_NOOPT; c < OVH_NCONFIGS; c++) {
		snprintf(req, sizeof(req), "{\"op\":\"create\",\"name\":\"%s\",\"vram\":\"256M\",\"mode\":\"%s\"}\n",
			 vgpu_names[c], modes[c]);
		if (ovh_daemon_call(d, req, NULL, err, errlen))
			return -1;
	}
	snprintf(req, sizeof(req), "{\"op\":\"set-mode\",\"name\":\"%s\",\"mode\":\"full\","
		 "\"opt_lazy\":false,\"opt_remap\":false}\n", vgpu_names[OVH_FULL_NOOPT]);
	return ovh_daemon_call(d, req, NULL, err, errlen);
}
