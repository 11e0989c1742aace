/*
 * Child processes of the benchmark (fairness.h): gpuvmd and the guests.
 *
 * Each child runs in a process group of its own, so a Ctrl-C on the
 * terminal reaches only the benchmark, which then stops the guests and
 * shuts gpuvmd down in order.  Each also gets SIGTERM if the benchmark
 * itself dies (PR_SET_PDEATHSIG), so nothing is left behind even after a
 * SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fairness.h"

volatile sig_atomic_t fx_signal;

static void on_signal(int sig)
{
	fx_signal = sig;
}

void fx_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

double fx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps in full unless a signal for the benchmark arrives. */
void fx_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !fx_signal)
		;
}

/* In the child: its own group, dies with the benchmark, output to the log. */
static void child_setup(pid_t parent, const char *log_path)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null >= 0)
		dup2(null, 0);
	if (log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
}

pid_t fx_spawn(char *const argv[], const char *log_path)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "gpuvm-fairness: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		child_setup(parent, log_path);
		execv(argv[0], argv);
		fprintf(stderr, "gpuvm-fairness: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);          /* also here, so it holds whoever runs first */
	return pid;
}

bool fx_reap(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	return r == pid || (r < 0 && errno == ECHILD);
}

bool fx_wait(pid_t pid, int timeout_ms, int *status)
{
	double end = fx_now() + timeout_ms / 1e3;

	for (;;) {
		if (fx_reap(pid, status))
			return true;
		if (fx_now() >= end)
			return false;
		fx_sleep_ms(10);
	}
}

void fx_stop(pid_t pid, int grace_ms)
{
	int status;

	if (pid <= 0 || fx_reap(pid, &status))
		return;
	kill(pid, SIGTERM);
	if (fx_wait(pid, grace_ms, &status))
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static bool dir_has_tools(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/gpuvmd", dir);
	if (access(path, X_OK))
		return false;
	snprintf(path, sizeof(path), "%s/gpuvm-run", dir);
	return access(path, X_OK) == 0;
}

void fx_bin_dir(char *dir, size_t len)
{
	const char *env = getenv("GPUVM_BIN");
	char self[4096], *exe_dir;
	ssize_t n;

	dir[0] = '\0';
	if (env && *env) {
		snprintf(dir, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	exe_dir = dirname(self);
	/* build/bench/fairness finds build/bin; a copy in build/bin finds its own dir. */
	snprintf(dir, len, "%s/../bin", exe_dir);
	if (!dir_has_tools(dir) && dir_has_tools(exe_dir))
		snprintf(dir, len, "%s", exe_dir);
}

void fx_print_log_tail(FILE *f, const char *path, int lines)
{
	char buf[8192];
	FILE *in = fopen(path, "r");
	size_t n;
	char *p;
	int seen = 0;

	if (!in)
		return;
	fseek(in, 0, SEEK_END);
	if (ftell(in) > (long)sizeof(buf) - 1)
		fseek(in, -(long)sizeof(buf) + 1, SEEK_END);
	else
		fseek(in, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && p != buf + n && ++seen > lines)
			break;
	for (char *line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(f, "    | %s\n", line);
}
