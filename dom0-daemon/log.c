/*
 * gpuvmd logging (see log.h).  A message is formatted into a stack buffer
 * and written with one write(2): lines from concurrent threads stay whole,
 * and no lock is held while writing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_level = GPUVM_LOG_INFO;
static enum gpuvm_log_style log_style = GPUVM_LOG_PLAIN;
static int log_fd = 2;
static char log_ident[32] = "gpuvmd";

static const char *const level_names[] = {
	[GPUVM_LOG_ERR] = "error",
	[GPUVM_LOG_WARN] = "warn",
	[GPUVM_LOG_INFO] = "info",
	[GPUVM_LOG_DEBUG] = "debug",
};

static int clamp_level(int level)
{
	if (level < GPUVM_LOG_ERR)
		return GPUVM_LOG_ERR;
	if (level > GPUVM_LOG_DEBUG)
		return GPUVM_LOG_DEBUG;
	return level;
}

void gpuvm_log_set_level(int level)
{
	atomic_store(&log_level, clamp_level(level));
}

int gpuvm_log_get_level(void)
{
	return atomic_load(&log_level);
}

bool gpuvm_log_enabled(int level)
{
	return level <= atomic_load(&log_level);
}

int gpuvm_log_level_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "err"))
		return GPUVM_LOG_ERR;
	if (!strcasecmp(name, "warning"))
		return GPUVM_LOG_WARN;
	for (int i = GPUVM_LOG_ERR; i <= GPUVM_LOG_DEBUG; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

const char *gpuvm_log_level_name(int level)
{
	return level_names[clamp_level(level)];
}

void gpuvm_log_setup(const char *ident, enum gpuvm_log_style style, int fd)
{
	if (ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (log_style == GPUVM_LOG_SYSLOG && style != GPUVM_LOG_SYSLOG)
		closelog();
	log_style = style;
	log_fd = fd;
	/* LOG_NDELAY: connect now, while the filesystem view is the start-up one. */
	if (style == GPUVM_LOG_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Room left in a buffer of size len after pos (which snprintf may overshoot). */
static size_t room_after(size_t pos, size_t len)
{
	return pos < len ? len - pos : 0;
}

static size_t format_prefix(char *buf, size_t len, int level)
{
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_style == GPUVM_LOG_PLAIN) {
		n = snprintf(buf, len, "%s: %s: ", log_ident, level_names[level]);
		return n < 0 ? 0 : (size_t)n;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(buf + n, room_after((size_t)n, len), ".%03ld %s[%ld] %s: ",
		      ts.tv_nsec / 1000000, log_ident, (long)getpid(), level_names[level]);
	return (size_t)n;
}

/* Mark a cut message, and make sure the line ends in exactly one newline. */
static size_t finish_line(char *buf, size_t len, size_t cap)
{
	if (len >= cap - 1) {
		len = cap - 1;
		memcpy(buf + len - 4, "...", 3);
		len--;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len++] = '\n';
	return len;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;         /* nowhere left to report it */
		buf += n;
		len -= (size_t)n;
	}
}

static void log_to_syslog(int level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	vsyslog(prio[level], fmt, ap);
}

void gpuvm_vlog(int level, const char *fmt, va_list ap)
{
	char buf[GPUVM_LOG_LINE_MAX];
	size_t len;
	int n;
	int saved_errno = errno;        /* callers may log between a failure and its errno */

	level = clamp_level(level);
	if (!gpuvm_log_enabled(level))
		return;
	if (log_style == GPUVM_LOG_SYSLOG) {
		log_to_syslog(level, fmt, ap);
		errno = saved_errno;
		return;
	}
	len = format_prefix(buf, sizeof(buf), level);
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	len += n < 0 ? 0 : (size_t)n;
	len = finish_line(buf, len, sizeof(buf));
	write_all(log_fd, buf, len);
	errno = saved_errno;
}

void gpuvm_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gpuvm_vlog(level, fmt, ap);
	va_end(ap);
}

/* ---- once per key ---------------------------------------------------------- */

void gpuvm_once_set_init(struct gpuvm_once_set *set)
{
	memset(set, 0, sizeof(*set));
	pthread_mutex_init(&set->lock, NULL);
}

void gpuvm_once_set_destroy(struct gpuvm_once_set *set)
{
	pthread_mutex_destroy(&set->lock);
}

/* Caller holds set->lock.  Returns 1 new, 0 seen, -1 no room (first time), -2 no room. */
static int once_set_insert(struct gpuvm_once_set *set, uint64_t key)
{
	for (unsigned i = 0; i < set->used; i++)
		if (set->keys[i] == key)
			return 0;
	if (set->used < GPUVM_ONCE_SET_KEYS) {
		set->keys[set->used++] = key;
		return 1;
	}
	if (set->full_reported)
		return -2;
	set->full_reported = true;
	return -1;
}

bool gpuvm_once_set_first(struct gpuvm_once_set *set, uint64_t key)
{
	int r;

	pthread_mutex_lock(&set->lock);
	r = once_set_insert(set, key);
	pthread_mutex_unlock(&set->lock);
	if (r == -1)
		gpuvm_log(GPUVM_LOG_WARN, "more than %d distinct repeated events; "
			  "further new ones are not logged", GPUVM_ONCE_SET_KEYS);
	return r == 1;
}

void gpuvm_log_once_key(struct gpuvm_once_set *set, uint64_t key, int level, const char *fmt, ...)
{
	va_list ap;

	if (!gpuvm_log_enabled(level) || !gpuvm_once_set_first(set, key))
		return;
	va_start(ap, fmt);
	gpuvm_vlog(level, fmt, ap);
	va_end(ap);
}
