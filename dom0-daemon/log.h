/*
 * gpuvmd logging: one line per message, filtered by level, written with a
 * single write(2) so that lines from different threads never interleave.
 *
 * Foreground daemons and tests log to a file descriptor (stderr by default),
 * either plain ("gpuvmd: warn: text") or stamped with the time, the ident
 * and the pid like a syslog line; a daemonized gpuvmd logs through syslog(3).
 * Every function here may be called from any thread.
 */
#ifndef GPUVM_LOG_H
#define GPUVM_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	GPUVM_LOG_ERR = 0,
	GPUVM_LOG_WARN,
	GPUVM_LOG_INFO,
	GPUVM_LOG_DEBUG,
};

enum gpuvm_log_style {
	GPUVM_LOG_PLAIN,        /* "ident: level: text" */
	GPUVM_LOG_STAMPED,      /* "2025-01-31 12:00:00.123 ident[pid] level: text" */
	GPUVM_LOG_SYSLOG,       /* syslog(3), facility daemon */
};

/* Longest line written; longer messages are cut and end in "...". */
#define GPUVM_LOG_LINE_MAX 1024

void gpuvm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gpuvm_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Messages above level are dropped; out-of-range levels are clamped. */
void gpuvm_log_set_level(int level);
int gpuvm_log_get_level(void);
/* Cheap test before building an expensive debug message. */
bool gpuvm_log_enabled(int level);

/* "error"/"err", "warn"/"warning", "info", "debug" -> level; -1 if unknown. */
int gpuvm_log_level_parse(const char *name);
const char *gpuvm_log_level_name(int level);

/*
 * Where lines go.  ident NULL keeps the current one ("gpuvmd" at start);
 * fd is used by the PLAIN and STAMPED styles (2 at start).  Not to be
 * called while other threads log: set it up at start-up.
 */
void gpuvm_log_setup(const char *ident, enum gpuvm_log_style style, int fd);

/*
 * Log a message once per call site for the life of the process: for
 * conditions that would otherwise repeat on every guest access.
 */
#define GPUVM_LOG_ONCE(level, ...)                                        \
	do {                                                              \
		static atomic_flag gpuvm_log_once_flag_ = ATOMIC_FLAG_INIT; \
		if (!atomic_flag_test_and_set(&gpuvm_log_once_flag_))     \
			gpuvm_log((level), __VA_ARGS__);                  \
	} while (0)

/*
 * Log once per key (a register address, a channel id...) in a small set
 * owned by the caller, e.g. one set per vGPU.  When the set is full, new
 * keys are no longer logged, and that fact is logged once.
 */
#define GPUVM_ONCE_SET_KEYS 64

struct gpuvm_once_set {
	pthread_mutex_t lock;
	unsigned used;
	bool full_reported;
	uint64_t keys[GPUVM_ONCE_SET_KEYS];
};

void gpuvm_once_set_init(struct gpuvm_once_set *set);
void gpuvm_once_set_destroy(struct gpuvm_once_set *set);
/* True the first time key is seen (and there was room to remember it). */
bool gpuvm_once_set_first(struct gpuvm_once_set *set, uint64_t key);
void gpuvm_log_once_key(struct gpuvm_once_set *set, uint64_t key, int level,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
