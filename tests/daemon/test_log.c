/*
 * gpuvmd logging (log.c): levels, both line formats, truncation, the
 * log-once helpers, errno preservation, and whole lines under concurrency.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Logging goes to a temp file; read everything written so far. */
static FILE *log_file;

static int setup(void **state)
{
	(void)state;
	log_file = tmpfile();
	if (!log_file)
		return -1;
	gpuvm_log_setup("gpuvmd", GPUVM_LOG_PLAIN, fileno(log_file));
	gpuvm_log_set_level(GPUVM_LOG_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gpuvm_log_setup("gpuvmd", GPUVM_LOG_PLAIN, 2);
	gpuvm_log_set_level(GPUVM_LOG_INFO);
	fclose(log_file);
	return 0;
}

/* Everything logged since the last call. */
static char *take_log(void)
{
	int fd = fileno(log_file);
	off_t end = lseek(fd, 0, SEEK_END);
	char *s = malloc((size_t)end + 1);

	assert_non_null(s);
	assert_int_equal(pread(fd, s, (size_t)end, 0), end);
	s[end] = '\0';
	assert_int_equal(ftruncate(fd, 0), 0);
	lseek(fd, 0, SEEK_SET);
	return s;
}

static void expect_log(const char *want)
{
	char *got = take_log();

	assert_string_equal(got, want);
	free(got);
}

static void test_level_names(void **state)
{
	(void)state;
	assert_int_equal(gpuvm_log_level_parse("error"), GPUVM_LOG_ERR);
	assert_int_equal(gpuvm_log_level_parse("err"), GPUVM_LOG_ERR);
	assert_int_equal(gpuvm_log_level_parse("WARN"), GPUVM_LOG_WARN);
	assert_int_equal(gpuvm_log_level_parse("warning"), GPUVM_LOG_WARN);
	assert_int_equal(gpuvm_log_level_parse("info"), GPUVM_LOG_INFO);
	assert_int_equal(gpuvm_log_level_parse("debug"), GPUVM_LOG_DEBUG);
	assert_int_equal(gpuvm_log_level_parse("loud"), -1);
	assert_int_equal(gpuvm_log_level_parse(""), -1);
	assert_int_equal(gpuvm_log_level_parse(NULL), -1);
	for (int l = GPUVM_LOG_ERR; l <= GPUVM_LOG_DEBUG; l++)
		assert_int_equal(gpuvm_log_level_parse(gpuvm_log_level_name(l)), l);
	assert_string_equal(gpuvm_log_level_name(99), "debug");
	assert_string_equal(gpuvm_log_level_name(-5), "error");
}

static void test_filtering(void **state)
{
	(void)state;
	gpuvm_log_set_level(GPUVM_LOG_WARN);
	assert_int_equal(gpuvm_log_get_level(), GPUVM_LOG_WARN);
	assert_false(gpuvm_log_enabled(GPUVM_LOG_INFO));
	assert_true(gpuvm_log_enabled(GPUVM_LOG_ERR));
	gpuvm_log(GPUVM_LOG_DEBUG, "hidden %d", 1);
	gpuvm_log(GPUVM_LOG_INFO, "hidden %d", 2);
	gpuvm_log(GPUVM_LOG_WARN, "shown %d", 3);
	gpuvm_log(GPUVM_LOG_ERR, "shown %s", "four");
	expect_log("gpuvmd: warn: shown 3\ngpuvmd: error: shown four\n");
	gpuvm_log_set_level(42);        /* clamped */
	assert_int_equal(gpuvm_log_get_level(), GPUVM_LOG_DEBUG);
}

static void test_one_newline(void **state)
{
	(void)state;
	gpuvm_log(GPUVM_LOG_INFO, "ends in newlines\n\n");
	gpuvm_log(GPUVM_LOG_INFO, "%s", "");
	expect_log("gpuvmd: info: ends in newlines\ngpuvmd: info: \n");
}

static void test_stamped_format(void **state)
{
	char want[64], *got;
	int year, mon, day, hh, mm, ss, ms, n = 0;

	(void)state;
	gpuvm_log_setup("gpuvmd-test", GPUVM_LOG_STAMPED, fileno(log_file));
	gpuvm_log(GPUVM_LOG_ERR, "boom");
	gpuvm_log_setup("gpuvmd", GPUVM_LOG_PLAIN, fileno(log_file));
	got = take_log();
	assert_int_equal(sscanf(got, "%4d-%2d-%2d %2d:%2d:%2d.%3d %n", &year, &mon, &day, &hh,
				&mm, &ss, &ms, &n), 7);
	snprintf(want, sizeof(want), "gpuvmd-test[%ld] error: boom\n", (long)getpid());
	assert_string_equal(got + n, want);
	free(got);
}

static void test_truncation(void **state)
{
	char *big = malloc(5000), *got;
	size_t len;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	gpuvm_log(GPUVM_LOG_INFO, "%s", big);
	got = take_log();
	len = strlen(got);
	assert_int_equal(len, GPUVM_LOG_LINE_MAX - 1);
	assert_string_equal(got + len - 4, "...\n");
	assert_null(memchr(got, '\n', len - 1));
	free(got);
	free(big);
}

static void log_once_site(int i)
{
	GPUVM_LOG_ONCE(GPUVM_LOG_WARN, "once %d", i);
}

static void test_log_once(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		log_once_site(i);
	expect_log("gpuvmd: warn: once 0\n");
}

static void test_once_set(void **state)
{
	struct gpuvm_once_set set;
	char *got;

	(void)state;
	gpuvm_once_set_init(&set);
	gpuvm_log_once_key(&set, 0x100, GPUVM_LOG_WARN, "reg %#x", 0x100);
	gpuvm_log_once_key(&set, 0x200, GPUVM_LOG_WARN, "reg %#x", 0x200);
	gpuvm_log_once_key(&set, 0x100, GPUVM_LOG_WARN, "reg %#x", 0x100);
	expect_log("gpuvmd: warn: reg 0x100\ngpuvmd: warn: reg 0x200\n");
	for (uint64_t k = 0; k < 2 * GPUVM_ONCE_SET_KEYS; k++)
		gpuvm_once_set_first(&set, 1000 + k);
	got = take_log();
	/* Told once that the set is full, then quiet. */
	assert_non_null(strstr(got, "further new ones are not logged"));
	assert_null(strstr(strstr(got, "further") + 1, "further"));
	free(got);
	assert_false(gpuvm_once_set_first(&set, 0x100));
	assert_false(gpuvm_once_set_first(&set, 99999));
	gpuvm_once_set_destroy(&set);
}

static void test_errno_preserved(void **state)
{
	(void)state;
	errno = EPIPE;
	gpuvm_log(GPUVM_LOG_INFO, "x");
	assert_int_equal(errno, EPIPE);
	errno = ENOENT;
	gpuvm_log(GPUVM_LOG_DEBUG + 5, "clamped to debug");
	assert_int_equal(errno, ENOENT);
	free(take_log());
}

#define THREADS 4
#define LINES 300

static void *log_lines(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < LINES; i++)
		gpuvm_log(GPUVM_LOG_INFO, "thread %ld line %d %s", id, i,
			  "padding padding padding padding padding padding padding");
	return NULL;
}

/* Lines from concurrent threads never interleave. */
static void test_concurrent_lines(void **state)
{
	pthread_t th[THREADS];
	char *got, *save = NULL;
	int count = 0;

	(void)state;
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, log_lines, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	got = take_log();
	for (char *l = strtok_r(got, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		long id;
		int line;

		size_t len = strlen(l);

		if (sscanf(l, "gpuvmd: info: thread %ld line %d padding", &id, &line) != 2 ||
		    len < 8 || strcmp(l + len - 8, " padding"))
			fail_msg("mangled line: %s", l);
		count++;
	}
	assert_int_equal(count, THREADS * LINES);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_level_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filtering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamped_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno_preserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
