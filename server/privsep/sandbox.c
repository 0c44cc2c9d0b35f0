/*
 * sandbox.c - what the CA monitor gives up once the CA key is open.
 *
 * The monitor then only needs to wait on its socket, receive, compute
 * (OpenSSL: memory, time, randomness, locks) and send. So:
 *   RLIMIT_FSIZE 0   no file can be written;
 *   RLIMIT_CORE 0    no core file (PR_SET_DUMPABLE 0 was set at start);
 *   NO_NEW_PRIVS     execve can never gain privileges;
 *   RLIMIT_NPROC 0   no new process (root is exempt; the filter is not);
 *   seccomp filter   every other system call kills the process, except
 *                    file opens, which fail with EACCES so that a library
 *                    probing for a file degrades instead of dying.
 * Sanitizer builds skip the last two: the leak checker clones a tracer
 * and ptraces the process at exit, which they forbid.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#ifndef PRIVSEP_SANITIZER_RUNTIME
#include <seccomp.h>
#endif

#include "monitor.h"

static int limit_zero(int resource)
{
	struct rlimit zero = { 0, 0 };

	return setrlimit(resource, &zero) == 0 ? 0 : PRIVSEP_ERR_SANDBOX;
}

#ifndef PRIVSEP_SANITIZER_RUNTIME
static const int allowed[] = {
	SCMP_SYS(poll),	       SCMP_SYS(ppoll),	       SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),     SCMP_SYS(sendto),       SCMP_SYS(sendmsg),
	SCMP_SYS(brk),	       SCMP_SYS(mmap),	       SCMP_SYS(munmap),
	SCMP_SYS(mremap),      SCMP_SYS(madvise),      SCMP_SYS(mprotect),
	SCMP_SYS(getrandom),   SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(time),	       SCMP_SYS(futex),	       SCMP_SYS(getpid),
	SCMP_SYS(gettid),      SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(close),       SCMP_SYS(exit),	       SCMP_SYS(exit_group),
};

static const int refused[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(newfstatat), SCMP_SYS(stat),
};

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = PRIVSEP_ERR_SANDBOX;

	if (ctx == NULL)
		return rc;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) != 0)
			goto out;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), refused[i],
				     0) != 0)
			goto out;
	if (seccomp_load(ctx) == 0)
		rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
#endif

int monitor_sandbox(void)
{
	int rc;

	/* glibc reads /etc/localtime on the first time conversion, even for
	 * gmtime_r; do it now, while files may still be opened. */
	tzset();
	if ((rc = limit_zero(RLIMIT_FSIZE)) != 0 ||
	    (rc = limit_zero(RLIMIT_CORE)) != 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return PRIVSEP_ERR_SANDBOX;
#ifndef PRIVSEP_SANITIZER_RUNTIME
	if ((rc = limit_zero(RLIMIT_NPROC)) != 0)
		return rc;
	rc = install_filter();
#endif
	return rc;
}
