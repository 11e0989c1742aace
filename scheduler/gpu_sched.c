/*
 * The scheduling mechanism (see gpu_sched.h): queues, the scheduler thread,
 * release, completion, GPU-time charging and statistics.  Policy decisions
 * are delegated to the ops in sched_policy.h.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "gpu_sched.h"

#define SCHED_POLL_NS       25000ull        /* completion polling while work is in flight */
#define SCHED_POLL_AHEAD_MAX_NS (2ull * 1000 * 1000)   /* longest sleep with work in flight */
#define SCHED_POLL_MARGIN_MAX_NS 500000ull  /* start polling this long before work is due */
#define SCHED_ITEMS_PER_CHAN 10             /* in-flight slots, one queued, one split off */
#define SCHED_BUCKET_NS     (10ull * 1000 * 1000)
#define SCHED_BUCKETS       100             /* one second of 10 ms buckets */
#define SCHED_MAX_CHAN      64

struct sched_client {
	struct sched_vm vm;                 /* the policy's view */
	const struct sched_owner_ops *ops;
	void *owner;
	unsigned nchan;
	struct sched_item *pool, *free;
	struct sched_item *qhead, *qtail;
	struct sched_item *queued_of[SCHED_MAX_CHAN];
	unsigned callbacks;                 /* owner callbacks running unlocked */
	bool removing;
	uint64_t last_end;                  /* latest GPU end stamp charged */
	uint64_t avg_ns;                    /* moving average of its submissions' GPU time */
	uint64_t bucket_ns[SCHED_BUCKETS];
	uint64_t bucket_no[SCHED_BUCKETS];
	uint64_t submissions, releases, waits, wait_ns;
};

struct sched {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t idle;                /* a client's callbacks finished */
	struct sched_state st;
	struct sched_client *clients[SCHED_MAX_VMS];
	struct sched_item *inflight;
	uint64_t (*clock_ns)(void *arg);
	void *clock_arg;
	uint64_t next_tick, started;
	uint64_t busy_ns, decisions, decision_ns;
	uint64_t last_end;                  /* latest GPU end stamp charged, any client */
	unsigned next_id;
	pthread_t thread;
	bool stop, kicked;
	bool releasing;                     /* an owner's release runs unlocked */
};

static uint64_t sched_now(struct sched *s)
{
	return s->clock_ns(s->clock_arg);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- queues ------------------------------------------------------------------- */

static struct sched_item *item_get(struct sched_client *c)
{
	struct sched_item *it = c->free;

	if (it) {
		c->free = it->next;
		memset(it, 0, sizeof(*it));
		it->client = c;
	}
	return it;
}

static void item_put(struct sched_item *it)
{
	struct sched_client *c = it->client;

	it->next = c->free;
	c->free = it;
}

static struct sched_item *queue_pop(struct sched_client *c)
{
	struct sched_item *it = c->qhead;

	if (!it)
		return NULL;
	c->qhead = it->next;
	if (!c->qhead)
		c->qtail = NULL;
	if (c->queued_of[it->chan] == it)
		c->queued_of[it->chan] = NULL;
	c->vm.queued--;
	c->vm.first_queued_at = c->qhead ? c->qhead->enq_ns : 0;
	it->next = NULL;
	return it;
}

static void queue_push_front(struct sched_client *c, struct sched_item *it)
{
	it->next = c->qhead;
	c->qhead = it;
	if (!c->qtail)
		c->qtail = it;
	if (!c->queued_of[it->chan])
		c->queued_of[it->chan] = it;
	c->vm.queued++;
	c->vm.first_queued_at = it->enq_ns;
}

static void queue_push_back(struct sched_client *c, struct sched_item *it)
{
	if (c->qtail)
		c->qtail->next = it;
	else
		c->qhead = it;
	c->qtail = it;
	c->queued_of[it->chan] = it;
	if (!c->vm.queued++)
		c->vm.first_queued_at = it->enq_ns;
}

static void queue_drop_chan(struct sched_client *c, unsigned chan)
{
	struct sched_item **pp = &c->qhead, *last = NULL;

	while (*pp) {
		struct sched_item *it = *pp;

		if (it->chan == chan) {
			*pp = it->next;
			c->vm.queued--;
			item_put(it);
			continue;
		}
		last = it;
		pp = &it->next;
	}
	c->qtail = last;
	c->queued_of[chan] = NULL;
	c->vm.first_queued_at = c->qhead ? c->qhead->enq_ns : 0;
}

/* ---- accounting ------------------------------------------------------------------ */

static void account_window(struct sched_client *c, uint64_t end, uint64_t ns)
{
	uint64_t no = end / SCHED_BUCKET_NS;
	unsigned b = (unsigned)(no % SCHED_BUCKETS);

	if (c->bucket_no[b] != no) {
		c->bucket_no[b] = no;
		c->bucket_ns[b] = 0;
	}
	c->bucket_ns[b] += ns;
}

static double window_share(const struct sched_client *c, uint64_t now, unsigned buckets)
{
	uint64_t no = now / SCHED_BUCKET_NS, sum = 0;

	for (unsigned i = 0; i < buckets; i++) {
		unsigned b = (unsigned)((no - i) % SCHED_BUCKETS);

		if (no >= i && c->bucket_no[b] == no - i)
			sum += c->bucket_ns[b];
	}
	/* The newest bucket has only run for now % SCHED_BUCKET_NS so far. */
	return (double)sum / (double)((buckets - 1) * SCHED_BUCKET_NS + now % SCHED_BUCKET_NS + 1);
}

/* Charge one completed submission: its own stretch of GPU time only, so
 * overlapping work of one VM (several channels) is not counted twice. */
static void charge(struct sched *s, struct sched_client *c, uint64_t begin, uint64_t end, uint64_t now)
{
	uint64_t from = begin > c->last_end ? begin : c->last_end;
	uint64_t ns = end > from ? end - from : 0;

	if (end > c->last_end)
		c->last_end = end;
	if (end > s->last_end)
		s->last_end = end;
	c->avg_ns = c->avg_ns ? c->avg_ns - c->avg_ns / 4 + (end - begin) / 4 : end - begin;
	c->vm.gpu_ns += ns;
	s->busy_ns += ns;
	account_window(c, end, ns);
	if (s->st.policy->charge)
		s->st.policy->charge(&s->st, &c->vm, ns, now);
}

/* ---- the scheduler thread ----------------------------------------------------------- */

/* Unlocked owner callback bracket: remove() waits for these to finish. */
static void callback_begin(struct sched_client *c) { c->callbacks++; }

static void callback_end(struct sched *s, struct sched_client *c)
{
	if (--c->callbacks == 0)
		pthread_cond_broadcast(&s->idle);
}

static void retire(struct sched *s, struct sched_item *it, bool completed)
{
	struct sched_client *c = it->client;

	if (!c->removing && !it->canceled) {
		callback_begin(c);
		pthread_mutex_unlock(&s->lock);
		c->ops->retire(c->owner, it, completed);
		pthread_mutex_lock(&s->lock);
		callback_end(s, c);
	}
	item_put(it);
}

static void kill_item(struct sched *s, struct sched_item *it)
{
	struct sched_client *c = it->client;

	callback_begin(c);
	pthread_mutex_unlock(&s->lock);
	c->ops->kill(c->owner, it);
	pthread_mutex_lock(&s->lock);
	callback_end(s, c);
}

/* Check in-flight work once; completed items are charged and retired. */
static void poll_inflight(struct sched *s, uint64_t now)
{
	struct sched_item **pp = &s->inflight, *done = NULL, *overdue = NULL;

	while (*pp) {
		struct sched_item *it = *pp;
		struct sched_client *c = it->client;
		uint64_t b = 0, e = 0;
		enum sched_poll r = it->canceled || c->removing ? SCHED_DEAD :
				    c->ops->poll(c->owner, it, &b, &e);

		if (r == SCHED_PENDING) {
			if (now - it->rel_ns > SCHED_WATCHDOG_NS && !overdue)
				overdue = it;
			pp = &it->next;
			continue;
		}
		*pp = it->next;
		/* A client being removed waits for this, and dropping its work
		 * calls none of its callbacks, whose end would wake it. */
		if (!--c->vm.in_flight && c->removing)
			pthread_cond_broadcast(&s->idle);
		if (r == SCHED_DONE)
			charge(s, c, b, e > b ? e : b, now);
		it->next = done;
		it->completed = r == SCHED_DONE;
		done = it;
	}
	if (s->st.running && !s->st.running->in_flight && !s->st.running->queued)
		s->st.running = NULL;
	if (overdue)
		kill_item(s, overdue);
	while (done) {
		struct sched_item *it = done;

		done = it->next;
		retire(s, it, it->completed);
	}
}

static bool any_queued(const struct sched *s)
{
	for (unsigned i = 0; i < s->st.n; i++)
		if (s->st.vms[i]->queued)
			return true;
	return false;
}

/*
 * What the owner left of it (it->to up to to) goes back first in line as
 * rest.  It counts as queued now: FIFO then takes the VMs in turn, one
 * piece each, and waits are counted per piece.
 */
static void requeue_rest(struct sched_client *c, const struct sched_item *it,
			 struct sched_item *rest, uint32_t to, uint64_t now)
{
	rest->chan = it->chan;
	rest->gen = it->gen;
	rest->from = it->to;
	rest->to = to;
	rest->enq_ns = now;
	queue_push_front(c, rest);
}

/*
 * One release of a client's oldest queued item, from the pop to what the
 * owner made of it.  Two callers share it: the scheduler thread (the owner's
 * release takes the owner's lock) and sched_submit in the submitting thread
 * (its caller holds the owner's lock: release_locked).
 */
struct release_try {
	struct sched_item *it;
	struct sched_item *rest;    /* holds what the owner leaves, or NULL */
	uint32_t to;                /* it->to before the owner cut it short */
	bool owner_locked;          /* called through release_locked */
	int err;
};

/*
 * Pop c's oldest queued item and hand it to the owner, at most
 * SCHED_RELEASE_ENTRIES of it when there is an item to hold the rest.  The
 * sched lock is dropped meanwhile; s->releasing keeps every other
 * dispatcher out until the outcome is settled, so releases stay in queue
 * order and a serializing policy never has two VMs' releases racing.
 */
static void release_call(struct sched *s, struct sched_client *c, struct release_try *t)
{
	int (*release)(void *owner, struct sched_item *it) =
		t->owner_locked ? c->ops->release_locked : c->ops->release;

	t->it = queue_pop(c);
	t->rest = item_get(c);
	t->it->max_entries = t->rest ? SCHED_RELEASE_ENTRIES : 0;
	t->to = t->it->to;
	s->releasing = true;
	callback_begin(c);
	pthread_mutex_unlock(&s->lock);
	t->err = release(c->owner, t->it);
	pthread_mutex_lock(&s->lock);
	callback_end(s, c);
	s->releasing = false;
}

/* In flight now: queue wait, counters, the in-flight list, the running VM. */
static void account_release(struct sched *s, struct sched_client *c, struct sched_item *it,
			    uint64_t now)
{
	it->rel_ns = now;
	c->releases++;
	c->wait_ns += now - it->enq_ns;
	if (now - it->enq_ns > SCHED_POLL_NS)
		c->waits++;
	c->vm.in_flight++;
	it->next = s->inflight;
	s->inflight = it;
	if (s->st.running != &c->vm) {
		s->st.running = &c->vm;
		s->st.running_since = now;
	}
}

/*
 * Account what the owner did.  false: not released, the item is back first
 * in line, whole.  That is -EAGAIN (no room now), and any error of a
 * release_locked: its caller holds the owner's lock, so a dropped item
 * could not be retired (retire takes that lock); the thread releases it
 * again and retires it then.
 */
static bool release_settle(struct sched *s, struct sched_client *c, struct release_try *t,
			   uint64_t now)
{
	struct sched_item *it = t->it;

	if (t->err || c->removing || it->to == t->to) {
		if (t->rest)
			item_put(t->rest);
		t->rest = NULL;
	}
	if (t->err && !c->removing && (t->err == -EAGAIN || t->owner_locked)) {
		it->to = t->to;
		queue_push_front(c, it);
		return false;
	}
	if (t->err || c->removing) {
		retire(s, it, false);
		return true;
	}
	if (t->rest)
		requeue_rest(c, it, t->rest, t->to, now);
	account_release(s, c, it, now);
	return true;
}

/*
 * Release the oldest queued item of c from the scheduler thread.  false if
 * the owner had no room.
 */
static bool release_one(struct sched *s, struct sched_client *c, uint64_t now)
{
	struct release_try t = { .owner_locked = false };

	if (!c->qhead)
		return false;
	release_call(s, c, &t);
	return release_settle(s, c, &t, now);
}

static struct sched_client *client_of(struct sched_vm *vm)
{
	return (struct sched_client *)vm;  /* vm is the first member */
}

/* Direct: everything queued goes out at once. */
static void dispatch_all(struct sched *s, uint64_t now)
{
	for (unsigned i = 0; i < s->st.n; i++) {
		struct sched_client *c = client_of(s->st.vms[i]);

		while (c->vm.queued && release_one(s, c, now))
			;
	}
}

/*
 * Serializing policies: the VM whose oldest queued item goes out now, or
 * NULL with *retry = when to ask again (0 = on an event).  One VM on the
 * GPU at a time, switched at submission boundaries: a pick other than the
 * running VM waits until the running VM's work has drained.
 */
static struct sched_vm *serial_choice(struct sched *s, uint64_t now, uint64_t *retry)
{
	struct sched_vm *run = s->st.running, *pick;
	uint64_t t0;

	*retry = 0;
	if (!any_queued(s) || (run && run->in_flight && !run->queued))
		return NULL;
	t0 = mono_ns();
	pick = s->st.policy->pick(&s->st, now, retry);
	s->decisions++;
	s->decision_ns += mono_ns() - t0;
	if (!pick || !pick->queued)
		return NULL;
	if (run && pick != run && run->in_flight) {
		*retry = 0;
		return NULL;
	}
	return pick;
}

/* Returns when to ask again (0 = on an event). */
static uint64_t dispatch_serial(struct sched *s, uint64_t now)
{
	for (;;) {
		uint64_t retry;
		struct sched_vm *pick = serial_choice(s, now, &retry);

		if (!pick)
			return retry;
		if (!release_one(s, client_of(pick), now))
			return now + SCHED_POLL_NS;
	}
}

static void sched_wait(struct sched *s, uint64_t until_ns)
{
	struct timespec ts;
	uint64_t now = mono_ns(), wait = until_ns > now ? until_ns - now : 0;

	if (s->kicked) {
		s->kicked = false;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(wait / 1000000000ull);
	ts.tv_nsec += (long)(wait % 1000000000ull);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	s->kicked = false;
}

/*
 * When to look at in-flight work next (scheduler clock).  The oldest
 * in-flight submission started when it was released or when the GPU
 * finished what ran before it, whichever is later, and takes about its
 * client's average; polling every SCHED_POLL_NS all that time would cost a
 * good part of a CPU, which on a small machine is taken from the guests
 * and, with gpusim, from the GPU itself.  So sleep until shortly before it
 * is due (never longer than SCHED_POLL_AHEAD_MAX_NS, in case it finishes
 * early), then poll every SCHED_POLL_NS.
 */
static uint64_t next_poll(const struct sched *s, uint64_t now)
{
	uint64_t due = UINT64_MAX;

	for (const struct sched_item *it = s->inflight; it; it = it->next) {
		const struct sched_client *c = it->client;
		uint64_t start = it->rel_ns > s->last_end ? it->rel_ns : s->last_end;
		uint64_t margin = c->avg_ns / 16;

		if (!c->avg_ns)
			return now + SCHED_POLL_NS;     /* nothing known yet */
		if (margin > SCHED_POLL_MARGIN_MAX_NS)
			margin = SCHED_POLL_MARGIN_MAX_NS;
		if (start + c->avg_ns - margin < due)
			due = start + c->avg_ns - margin;
	}
	if (due < now + SCHED_POLL_NS)
		return now + SCHED_POLL_NS;
	return due < now + SCHED_POLL_AHEAD_MAX_NS ? due : now + SCHED_POLL_AHEAD_MAX_NS;
}

/*
 * Completions are found by polling, so how soon the thread runs after it
 * wakes decides how long the GPU idles between submissions.  With a normal
 * priority on a busy machine that was often milliseconds (the GPU idled
 * 15% with four VMs on two CPUs); a real-time priority makes it tens of
 * microseconds.  It is asked for, and silently not had without the
 * privilege; the thread sleeps between polls, so it cannot hog a CPU.
 */
static void sched_thread_priority(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

static void *sched_main(void *arg)
{
	struct sched *s = arg;

	/* Completion polls are short sleeps: ask the kernel not to stretch them. */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	sched_thread_priority();
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		uint64_t now = sched_now(s), next = 0, until;

		poll_inflight(s, now);
		if (now >= s->next_tick) {
			if (s->st.policy->tick)
				s->st.policy->tick(&s->st, now);
			s->next_tick = now + s->st.params.tick_ns;
		}
		/* A submitting thread releasing (its own lock held, ours dropped)
		 * kicks us when it is done; until then the queues are its. */
		if (s->releasing)
			next = 0;
		else if (s->st.policy->serialize)
			next = dispatch_serial(s, now);
		else
			dispatch_all(s, now);
		/* Sleep until the next tick, the policy's retry time, or a poll. */
		until = s->next_tick;
		if (next && next > now && next < until)
			until = next;
		if (s->inflight && next_poll(s, now) < until)
			until = next_poll(s, now);
		sched_wait(s, mono_ns() + (until > now ? until - now : 0));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- public API -------------------------------------------------------------------- */

static uint64_t default_clock(void *arg)
{
	(void)arg;
	return mono_ns();
}

static void params_defaults(struct sched_params *p)
{
	if (!p->period_ns)
		p->period_ns = SCHED_DEFAULT_PERIOD_NS;
	if (!p->tick_ns)
		p->tick_ns = SCHED_DEFAULT_TICK_NS;
	if (!p->tslice_ns)
		p->tslice_ns = SCHED_DEFAULT_TICK_NS;
}

struct sched *sched_create(const struct sched_policy *policy, const struct sched_params *params,
			   uint64_t (*clock_ns)(void *arg), void *clock_arg)
{
	struct sched *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;

	if (!s)
		return NULL;
	if (params)
		s->st.params = *params;
	params_defaults(&s->st.params);
	s->st.policy = policy;
	s->clock_ns = clock_ns ? clock_ns : default_clock;
	s->clock_arg = clock_arg;
	s->started = sched_now(s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_cond_init(&s->idle, &attr);
	pthread_condattr_destroy(&attr);
	if ((policy->init && policy->init(&s->st)) ||
	    pthread_create(&s->thread, NULL, sched_main, s)) {
		if (policy->fini && s->st.policy_data)
			policy->fini(&s->st);
		pthread_cond_destroy(&s->idle);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void sched_destroy(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	if (s->st.policy->fini)
		s->st.policy->fini(&s->st);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int sched_set_policy(struct sched *s, const struct sched_policy *policy)
{
	const struct sched_policy *old;
	uint64_t now;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	old = s->st.policy;
	now = sched_now(s);
	/* The old policy forgets its VMs, then the new one starts and learns
	 * them; if it cannot start, the old one is brought back the same way. */
	for (unsigned i = 0; i < s->st.n && old->vm_removed; i++)
		old->vm_removed(&s->st, s->st.vms[i]);
	if (old->fini)
		old->fini(&s->st);
	s->st.policy_data = NULL;
	s->st.policy = policy;
	if (policy->init && (err = policy->init(&s->st))) {
		s->st.policy = policy = old;
		s->st.policy_data = NULL;
		if (old->init)
			old->init(&s->st);
	}
	for (unsigned i = 0; i < s->st.n && policy->vm_added; i++)
		policy->vm_added(&s->st, s->st.vms[i], now);
	s->st.running = NULL;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return err;
}

const char *sched_policy_name(struct sched *s)
{
	return s->st.policy->name;
}

int sched_set_params(struct sched *s, const struct sched_params *params)
{
	struct sched_params p = *params;

	params_defaults(&p);
	if (p.tick_ns > p.period_ns)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->st.params = p;
	s->next_tick = 0;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void sched_get_params(struct sched *s, struct sched_params *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st.params;
	pthread_mutex_unlock(&s->lock);
}

struct sched_client *sched_client_add(struct sched *s, const char *name, unsigned nchan,
				      const struct sched_owner_ops *ops, void *owner)
{
	struct sched_client *c;
	unsigned items = nchan * SCHED_ITEMS_PER_CHAN;

	if (!nchan || nchan > SCHED_MAX_CHAN || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->pool = calloc(items, sizeof(*c->pool));
	if (!c->pool) {
		free(c);
		return NULL;
	}
	for (unsigned i = 0; i < items; i++) {
		c->pool[i].next = c->free;
		c->free = &c->pool[i];
	}
	c->ops = ops;
	c->owner = owner;
	c->nchan = nchan;
	c->vm.weight = SCHED_DEFAULT_WEIGHT;
	strncpy(c->vm.name, name, sizeof(c->vm.name) - 1);
	pthread_mutex_lock(&s->lock);
	if (s->st.n == SCHED_MAX_VMS) {
		pthread_mutex_unlock(&s->lock);
		free(c->pool);
		free(c);
		return NULL;
	}
	c->vm.id = ++s->next_id;
	s->st.vms[s->st.n++] = &c->vm;
	if (s->st.policy->vm_added)
		s->st.policy->vm_added(&s->st, &c->vm, sched_now(s));
	pthread_mutex_unlock(&s->lock);
	return c;
}

void sched_client_remove(struct sched *s, struct sched_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	c->removing = true;
	while (c->qhead)
		item_put(queue_pop(c));
	/* In-flight items are dropped by the thread without calling back. */
	while (c->callbacks || c->vm.in_flight) {
		pthread_cond_broadcast(&s->wake);
		pthread_cond_wait(&s->idle, &s->lock);
		if (!c->callbacks && c->vm.in_flight)
			poll_inflight(s, sched_now(s));
	}
	if (s->st.policy->vm_removed)
		s->st.policy->vm_removed(&s->st, &c->vm);
	/* Keep vms[] in creation order: round-robin ties depend on it. */
	for (unsigned i = 0; i < s->st.n; i++) {
		if (s->st.vms[i] == &c->vm) {
			for (unsigned j = i + 1; j < s->st.n; j++)
				s->st.vms[j - 1] = s->st.vms[j];
			s->st.n--;
			break;
		}
	}
	if (s->st.running == &c->vm)
		s->st.running = NULL;
	pthread_mutex_unlock(&s->lock);
	free(c->pool);
	free(c);
}

int sched_client_set(struct sched *s, struct sched_client *c, int weight, int cap)
{
	if ((weight >= 0 && (weight < 1 || weight > SCHED_MAX_WEIGHT)) || cap > 10000)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if (weight >= 0)
		c->vm.weight = (unsigned)weight;
	if (cap >= 0)
		c->vm.cap = (unsigned)cap;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void sched_client_stats(struct sched *s, struct sched_client *c, struct sched_vm_stats *out)
{
	uint64_t now;

	pthread_mutex_lock(&s->lock);
	now = sched_now(s);
	memset(out, 0, sizeof(*out));
	memcpy(out->name, c->vm.name, sizeof(out->name));
	out->weight = c->vm.weight;
	out->cap = c->vm.cap;
	out->gpu_ns = c->vm.gpu_ns;
	out->share_100ms = window_share(c, now, 10);
	out->share_1s = window_share(c, now, SCHED_BUCKETS);
	out->queued = c->vm.queued;
	out->in_flight = c->vm.in_flight;
	out->submissions = c->submissions;
	out->releases = c->releases;
	out->waits = c->waits;
	out->wait_ns = c->wait_ns;
	out->credit = c->vm.credit;
	pthread_mutex_unlock(&s->lock);
}

void sched_get_stats(struct sched *s, struct sched_stats *out)
{
	pthread_mutex_lock(&s->lock);
	out->policy = s->st.policy->name;
	out->busy_ns = s->busy_ns;
	out->uptime_ns = sched_now(s) - s->started;
	out->decisions = s->decisions;
	out->decision_ns = s->decision_ns;
	pthread_mutex_unlock(&s->lock);
}

/*
 * Would the scheduler thread, woken now, release c's oldest item at once?
 * Asked by sched_submit when that item is c's only queued one, so taking
 * it keeps c's order.  Never while another release runs unlocked: its
 * dispatcher goes on after it and sees this item then.
 */
static bool releasable_now(struct sched *s, struct sched_client *c, uint64_t now)
{
	uint64_t retry;

	if (!c->ops->release_locked || c->removing || s->releasing || c->vm.queued != 1)
		return false;
	if (!s->st.policy->serialize)
		return true;    /* direct: everything goes out at once */
	return serial_choice(s, now, &retry) == &c->vm;
}

/*
 * Release c's oldest item from the submitting thread, which holds the
 * owner's lock, so the GPU starts it without waiting for the scheduler
 * thread to wake (a futex wake-up and a context switch on every
 * submission).  Bookkeeping is the thread's own (release_settle); an item
 * the owner did not take stays first in line for the thread.
 */
static void release_inline(struct sched *s, struct sched_client *c, uint64_t now)
{
	struct release_try t = { .owner_locked = true };

	release_call(s, c, &t);
	(void)release_settle(s, c, &t, now);
}

int sched_submit(struct sched *s, struct sched_client *c, unsigned chan, uint32_t gen,
		 uint32_t from, uint32_t to)
{
	struct sched_item *it;

	if (chan >= c->nchan)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	c->submissions++;
	it = c->queued_of[chan];
	if (it && it->gen == gen) {
		it->to = to;            /* more entries behind the same queued work */
		goto out;
	}
	it = item_get(c);
	if (!it) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	it->chan = chan;
	it->gen = gen;
	it->from = from;
	it->to = to;
	it->enq_ns = sched_now(s);
	queue_push_back(c, it);
	if (releasable_now(s, c, it->enq_ns))
		release_inline(s, c, it->enq_ns);
	/* Either way the thread has something new: queued work to dispatch,
	 * or released work whose completion it must poll for. */
	s->kicked = true;
	pthread_cond_signal(&s->wake);
out:
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void sched_cancel_chan(struct sched *s, struct sched_client *c, unsigned chan)
{
	if (chan >= c->nchan)
		return;
	pthread_mutex_lock(&s->lock);
	queue_drop_chan(c, chan);
	for (struct sched_item *it = s->inflight; it; it = it->next)
		if (it->client == c && it->chan == chan)
			it->canceled = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

bool sched_chan_busy(struct sched *s, struct sched_client *c, unsigned chan)
{
	bool busy;

	if (chan >= c->nchan)
		return false;
	pthread_mutex_lock(&s->lock);
	busy = c->queued_of[chan] != NULL;
	pthread_mutex_unlock(&s->lock);
	return busy;
}

void sched_kick(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->kicked = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}
