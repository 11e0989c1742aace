/*
 * The mechanism's fast path (scheduler/gpu_sched.c): when the policy would
 * release new work at once anyway, sched_submit releases it in the
 * submitting thread through the owner's release_locked, and the scheduler
 * thread only polls for its completion.  Otherwise the work waits for the
 * thread as before.
 *
 * The owner is a fake vGPU: its lock stands for v->lock (the test holds it
 * around sched_submit, as vgpu_submit_put does), its "GPU" finishes a
 * release when the test says so, with the stamps the test gives.  The lock
 * checks errors, so a callback that would deadlock on it is counted
 * instead of hanging the test.  Waits for the scheduler thread are bounded
 * (WAIT_MS) only so that a broken mechanism fails instead of hanging; no
 * assertion depends on how long anything took.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "gpu_sched.h"

#define MAX_REL   32
#define WAIT_MS   10000
#define MS        (1000ull * 1000)

struct fake_release {
	unsigned chan;
	uint32_t from, to;
	bool locked_op;             /* through release_locked */
	bool in_submitter;          /* in the thread that called sched_submit */
};

struct fake {
	pthread_mutex_t lock;       /* the owner's lock, like a vGPU's v->lock */
	pthread_cond_t changed;
	pthread_t submitter;
	struct sched_client *sc;
	int refuse;                 /* what every release returns; 0 = take the work */
	unsigned locked_calls;      /* release_locked calls, taken or not */
	unsigned bad_locking;       /* callbacks that found the owner's lock unusable */
	struct fake_release rel[MAX_REL];
	unsigned nrel;
	atomic_bool done[MAX_REL];  /* the fake GPU: release i has finished */
	uint64_t begin[MAX_REL], end[MAX_REL];
	unsigned retired, retired_completed;
	bool hold_retire;           /* park the scheduler thread in retire */
	unsigned retire_entered;
	bool removed;               /* its client is gone already */
};

struct rig {
	struct sched *s;
	struct fake f[3];
	unsigned n;
};

static struct rig rig;

/* ---- the fake owner --------------------------------------------------------------- */

/* Take it the way a vGPU's release_locked does: at most max_entries. */
static int fake_take(struct fake *f, struct sched_item *it, bool locked_op)
{
	uint32_t n = it->to - it->from;
	struct fake_release *r;

	if (f->refuse)
		return f->refuse;
	if (f->nrel == MAX_REL)
		return -EAGAIN;
	if (it->max_entries && n > it->max_entries)
		n = it->max_entries;
	it->to = it->from + n;
	it->slot = f->nrel;
	r = &f->rel[f->nrel++];
	r->chan = it->chan;
	r->from = it->from;
	r->to = it->to;
	r->locked_op = locked_op;
	r->in_submitter = pthread_equal(pthread_self(), f->submitter);
	pthread_cond_broadcast(&f->changed);
	return 0;
}

static int fake_release(void *owner, struct sched_item *it)
{
	struct fake *f = owner;
	int err;

	if (pthread_mutex_lock(&f->lock)) {
		f->bad_locking++;
		return -EDEADLK;
	}
	err = fake_take(f, it, false);
	pthread_mutex_unlock(&f->lock);
	return err;
}

static int fake_release_locked(void *owner, struct sched_item *it)
{
	struct fake *f = owner;

	/* The caller must hold the owner's lock: relocking it must fail. */
	if (pthread_mutex_lock(&f->lock) != EDEADLK) {
		f->bad_locking++;
		pthread_mutex_unlock(&f->lock);
	}
	f->locked_calls++;
	return fake_take(f, it, true);
}

static enum sched_poll fake_poll(void *owner, const struct sched_item *it, uint64_t *begin, uint64_t *end)
{
	struct fake *f = owner;

	if (!atomic_load(&f->done[it->slot]))
		return SCHED_PENDING;
	*begin = f->begin[it->slot];
	*end = f->end[it->slot];
	return SCHED_DONE;
}

static void fake_retire(void *owner, const struct sched_item *it, bool completed)
{
	struct fake *f = owner;

	(void)it;
	if (pthread_mutex_lock(&f->lock)) {
		f->bad_locking++;       /* called with the owner's lock held: would deadlock */
		return;
	}
	f->retire_entered++;
	pthread_cond_broadcast(&f->changed);
	while (f->hold_retire)
		pthread_cond_wait(&f->changed, &f->lock);
	f->retired++;
	f->retired_completed += completed;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

static void fake_kill(void *owner, const struct sched_item *it)
{
	(void)owner;
	(void)it;
}

static const struct sched_owner_ops fake_ops = {
	.release = fake_release,
	.release_locked = fake_release_locked,
	.poll = fake_poll,
	.retire = fake_retire,
	.kill = fake_kill,
};

/* ---- the rig ------------------------------------------------------------------------- */

static void rig_start(const struct sched_policy *p, unsigned n)
{
	static const char *const names[] = { "vm0", "vm1", "vm2" };
	pthread_mutexattr_t attr;

	memset(&rig, 0, sizeof(rig));
	rig.s = sched_create(p, NULL, NULL, NULL);
	assert_non_null(rig.s);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	for (unsigned i = 0; i < n; i++) {
		struct fake *f = &rig.f[i];

		pthread_mutex_init(&f->lock, &attr);
		pthread_cond_init(&f->changed, NULL);
		f->submitter = pthread_self();
		f->sc = sched_client_add(rig.s, names[i], 4, &fake_ops, f);
		assert_non_null(f->sc);
	}
	pthread_mutexattr_destroy(&attr);
	rig.n = n;
}

static void rig_stop(void)
{
	for (unsigned i = 0; i < rig.n; i++) {
		struct fake *f = &rig.f[i];

		pthread_mutex_lock(&f->lock);
		f->hold_retire = false;
		pthread_cond_broadcast(&f->changed);
		pthread_mutex_unlock(&f->lock);
		if (!f->removed)
			sched_client_remove(rig.s, f->sc);
		assert_int_equal(f->bad_locking, 0);
	}
	sched_destroy(rig.s);
	for (unsigned i = 0; i < rig.n; i++) {
		pthread_cond_destroy(&rig.f[i].changed);
		pthread_mutex_destroy(&rig.f[i].lock);
	}
}

/* A GP_PUT write: sched_submit with the owner's lock held, as vgpu_submit_put. */
static void submit(struct fake *f, unsigned chan, uint32_t from, uint32_t to)
{
	pthread_mutex_lock(&f->lock);
	assert_int_equal(sched_submit(rig.s, f->sc, chan, 1, from, to), 0);
	pthread_mutex_unlock(&f->lock);
}

/* The fake GPU finishes release i after ns of GPU time. */
static void finish(struct fake *f, unsigned i, uint64_t ns)
{
	f->begin[i] = 1000 * MS + i * 100 * MS;
	f->end[i] = f->begin[i] + ns;
	atomic_store(&f->done[i], true);
	sched_kick(rig.s);
}

static unsigned nrel(struct fake *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->nrel;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait (bounded) until *counter of f reaches n; false if it never did. */
static bool wait_count(struct fake *f, const unsigned *counter, unsigned n)
{
	struct timespec ts;
	bool ok;

	deadline_in(&ts, WAIT_MS);
	pthread_mutex_lock(&f->lock);
	while (*counter < n && pthread_cond_timedwait(&f->changed, &f->lock, &ts) != ETIMEDOUT)
		;
	ok = *counter >= n;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static void stats(struct fake *f, struct sched_vm_stats *out)
{
	sched_client_stats(rig.s, f->sc, out);
}

/* Wait (bounded) until nothing of f is in flight any more. */
static bool wait_drained(struct fake *f)
{
	struct sched_vm_stats st;

	for (unsigned i = 0; i < WAIT_MS; i++) {
		stats(f, &st);
		if (!st.in_flight && !st.queued)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000L }, NULL);
	}
	return false;
}

/* Release i of f went out through release_locked in the submitting thread. */
static void assert_inline(const struct fake *f, unsigned i)
{
	assert_true(i < f->nrel);
	assert_true(f->rel[i].locked_op);
	assert_true(f->rel[i].in_submitter);
}

/* Release i of f went out through release, from the scheduler thread. */
static void assert_by_thread(const struct fake *f, unsigned i)
{
	assert_true(i < f->nrel);
	assert_false(f->rel[i].locked_op);
	assert_false(f->rel[i].in_submitter);
}

/* ---- released at once ------------------------------------------------------------------ */

/*
 * Released before sched_submit returns, accounted like a release of the
 * thread (in flight, no wait), and charged and retired by the thread when
 * the GPU is done.
 */
static void check_idle_gpu_releases_inline(const struct sched_policy *p)
{
	struct fake *f;
	struct sched_vm_stats st;

	rig_start(p, 2);
	f = &rig.f[0];
	submit(f, 0, 0, 1);
	assert_int_equal(f->nrel, 1);
	assert_inline(f, 0);
	assert_int_equal(f->rel[0].from, 0);
	assert_int_equal(f->rel[0].to, 1);
	stats(f, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.in_flight, 1);
	assert_int_equal(st.releases, 1);
	assert_int_equal(st.submissions, 1);
	assert_int_equal(st.waits, 0);
	assert_int_equal(st.wait_ns, 0);

	finish(f, 0, 2 * MS);
	assert_true(wait_count(f, &f->retired, 1));
	assert_true(wait_drained(f));
	stats(f, &st);
	assert_int_equal(f->retired_completed, 1);
	assert_int_equal(st.gpu_ns, 2 * MS);
	rig_stop();
}

static void test_direct_idle_gpu_releases_inline(void **state)
{
	(void)state;
	check_idle_gpu_releases_inline(&sched_policy_direct);
}

static void test_credit_idle_gpu_releases_inline(void **state)
{
	struct sched_stats st;

	(void)state;
	check_idle_gpu_releases_inline(&sched_policy_credit);
	/* The same, and the decision was the policy's. */
	rig_start(&sched_policy_credit, 1);
	submit(&rig.f[0], 0, 0, 1);
	assert_inline(&rig.f[0], 0);
	sched_get_stats(rig.s, &st);
	assert_true(st.decisions >= 1);
	rig_stop();
}

static void test_fifo_and_band_idle_gpu_release_inline(void **state)
{
	(void)state;
	check_idle_gpu_releases_inline(&sched_policy_fifo);
	check_idle_gpu_releases_inline(&sched_policy_band);
}

/*
 * The scheduler thread cannot run its dispatch at all (it is parked in
 * another VM's retire callback), and new work still reaches the "GPU".
 */
static void check_released_without_thread(const struct sched_policy *p)
{
	struct fake *parked, *f;

	rig_start(p, 2);
	parked = &rig.f[1];
	f = &rig.f[0];
	parked->hold_retire = true;
	submit(parked, 0, 0, 1);
	finish(parked, 0, MS);
	assert_true(wait_count(parked, &parked->retire_entered, 1));

	submit(f, 0, 0, 1);
	assert_int_equal(nrel(f), 1);
	assert_inline(f, 0);

	pthread_mutex_lock(&parked->lock);
	parked->hold_retire = false;
	pthread_cond_broadcast(&parked->changed);
	pthread_mutex_unlock(&parked->lock);
	assert_true(wait_count(parked, &parked->retired, 1));
	rig_stop();
}

static void test_released_while_thread_is_parked(void **state)
{
	(void)state;
	check_released_without_thread(&sched_policy_direct);
	check_released_without_thread(&sched_policy_credit);
}

/* Direct: another VM's work on the GPU is no reason to wait. */
static void test_direct_releases_inline_next_to_other_vm(void **state)
{
	(void)state;
	rig_start(&sched_policy_direct, 2);
	submit(&rig.f[0], 0, 0, 1);
	submit(&rig.f[1], 0, 0, 1);
	assert_inline(&rig.f[0], 0);
	assert_inline(&rig.f[1], 0);
	rig_stop();
}

/* ---- left to the thread -------------------------------------------------------------------- */

/*
 * Serializing: with another VM's work in flight the new work is not
 * released inline; it goes out from the thread once that work completed.
 */
static void check_waits_for_other_vm(const struct sched_policy *p)
{
	struct fake *a, *b;
	struct sched_vm_stats st;

	rig_start(p, 2);
	a = &rig.f[0];
	b = &rig.f[1];
	submit(a, 0, 0, 1);
	assert_inline(a, 0);
	submit(b, 0, 0, 1);
	assert_int_equal(nrel(b), 0);
	assert_int_equal(b->locked_calls, 0);
	stats(b, &st);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.releases, 0);

	finish(a, 0, MS);
	assert_true(wait_count(b, &b->nrel, 1));
	assert_by_thread(b, 0);
	assert_int_equal(b->locked_calls, 0);
	finish(b, 0, MS);
	assert_true(wait_drained(b));
	stats(b, &st);
	assert_int_equal(st.releases, 1);
	assert_int_equal(st.gpu_ns, MS);
	rig_stop();
}

static void test_serializing_waits_for_other_vm(void **state)
{
	(void)state;
	check_waits_for_other_vm(&sched_policy_credit);
	check_waits_for_other_vm(&sched_policy_fifo);
	check_waits_for_other_vm(&sched_policy_band);
}

/*
 * Credit's pipelining bound: until a VM's first submission has completed
 * it is assumed to take a whole slice, so its second one is not released
 * behind it, inline or not.  After the first completed, the next submission
 * of the VM, alone on an idle GPU, goes out inline again.
 */
static void test_credit_bound_holds_inline(void **state)
{
	struct fake *f;

	(void)state;
	rig_start(&sched_policy_credit, 1);
	f = &rig.f[0];
	submit(f, 0, 0, 1);
	submit(f, 1, 0, 1);
	assert_int_equal(nrel(f), 1);
	finish(f, 0, MS);
	assert_true(wait_count(f, &f->nrel, 2));
	assert_by_thread(f, 1);
	assert_int_equal(f->rel[1].chan, 1);
	finish(f, 1, MS);
	assert_true(wait_drained(f));

	submit(f, 2, 0, 1);
	assert_int_equal(nrel(f), 3);
	assert_inline(f, 2);
	rig_stop();
}

/*
 * Per client order: work behind queued work of the same VM is never taken
 * ahead of it.  The owner has no room at first, so the first submission
 * stays queued; the second must not overtake it when room comes.
 */
static void test_queued_work_keeps_its_order(void **state)
{
	struct fake *f;

	(void)state;
	rig_start(&sched_policy_direct, 1);
	f = &rig.f[0];
	f->refuse = -EAGAIN;
	submit(f, 0, 0, 1);
	assert_int_equal(f->locked_calls, 1);
	submit(f, 1, 0, 1);
	assert_int_equal(f->locked_calls, 1);       /* not even tried */
	assert_int_equal(nrel(f), 0);

	pthread_mutex_lock(&f->lock);
	f->refuse = 0;
	pthread_mutex_unlock(&f->lock);
	sched_kick(rig.s);
	assert_true(wait_count(f, &f->nrel, 2));
	assert_int_equal(f->rel[0].chan, 0);
	assert_int_equal(f->rel[1].chan, 1);
	assert_by_thread(f, 0);
	assert_by_thread(f, 1);
	rig_stop();
}

/*
 * A submission of several entries: the first goes out inline, the rest
 * stays first in line and the thread releases it a piece at a time.
 */
static void test_rest_of_a_long_submission_goes_by_thread(void **state)
{
	struct fake *f;

	(void)state;
	rig_start(&sched_policy_direct, 1);
	f = &rig.f[0];
	submit(f, 0, 0, 3);
	assert_inline(f, 0);
	assert_int_equal(f->rel[0].to, 1);
	assert_true(wait_count(f, &f->nrel, 3));
	assert_by_thread(f, 1);
	assert_by_thread(f, 2);
	assert_int_equal(f->rel[1].from, 1);
	assert_int_equal(f->rel[2].from, 2);
	assert_int_equal(f->rel[2].to, 3);
	rig_stop();
}

/*
 * The owner cannot take the work (its channel is gone): the mechanism must
 * not retire it inline (retire takes the lock the submitter holds); the
 * thread tries again and retires it, uncompleted, without charge.
 */
static void test_refused_inline_release_is_retired_by_thread(void **state)
{
	struct fake *f;
	struct sched_vm_stats st;

	(void)state;
	rig_start(&sched_policy_credit, 1);
	f = &rig.f[0];
	f->refuse = -ENOENT;
	submit(f, 0, 0, 1);
	assert_int_equal(f->locked_calls, 1);
	assert_true(wait_count(f, &f->retired, 1));
	assert_int_equal(f->retired_completed, 0);
	assert_true(wait_drained(f));
	stats(f, &st);
	assert_int_equal(st.releases, 0);
	assert_int_equal(st.gpu_ns, 0);
	assert_int_equal(f->bad_locking, 0);
	rig_stop();
}

/* ---- bookkeeping after an inline release ----------------------------------------------------- */

/* Canceled while in flight: dropped without charge and without a retire. */
static void test_cancel_after_inline_release(void **state)
{
	struct fake *f;
	struct sched_vm_stats st;

	(void)state;
	rig_start(&sched_policy_credit, 1);
	f = &rig.f[0];
	submit(f, 0, 0, 1);
	assert_inline(f, 0);
	pthread_mutex_lock(&f->lock);
	sched_cancel_chan(rig.s, f->sc, 0);
	pthread_mutex_unlock(&f->lock);
	sched_kick(rig.s);
	assert_true(wait_drained(f));
	finish(f, 0, MS);
	stats(f, &st);
	assert_int_equal(st.gpu_ns, 0);
	assert_int_equal(f->retired, 0);
	rig_stop();
}

/* Removed with work in flight that was released inline: nothing leaks, the
 * other VM goes on. */
static void test_remove_client_after_inline_release(void **state)
{
	struct fake *a, *b;

	(void)state;
	rig_start(&sched_policy_credit, 2);
	a = &rig.f[0];
	b = &rig.f[1];
	submit(a, 0, 0, 1);
	assert_inline(a, 0);
	submit(b, 0, 0, 1);
	assert_int_equal(nrel(b), 0);
	sched_client_remove(rig.s, a->sc);
	a->removed = true;
	assert_int_equal(a->retired, 0);
	assert_true(wait_count(b, &b->nrel, 1));
	assert_by_thread(b, 0);
	rig_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_idle_gpu_releases_inline),
		cmocka_unit_test(test_credit_idle_gpu_releases_inline),
		cmocka_unit_test(test_fifo_and_band_idle_gpu_release_inline),
		cmocka_unit_test(test_released_while_thread_is_parked),
		cmocka_unit_test(test_direct_releases_inline_next_to_other_vm),
		cmocka_unit_test(test_serializing_waits_for_other_vm),
		cmocka_unit_test(test_credit_bound_holds_inline),
		cmocka_unit_test(test_queued_work_keeps_its_order),
		cmocka_unit_test(test_rest_of_a_long_submission_goes_by_thread),
		cmocka_unit_test(test_refused_inline_release_is_retired_by_thread),
		cmocka_unit_test(test_cancel_after_inline_release),
		cmocka_unit_test(test_remove_client_after_inline_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
