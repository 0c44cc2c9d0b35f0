/* output.c - how bulwarkctl reports results and errors, as text for people
 * or as JSON for scripts (--json). */
#include <stdarg.h>
#include <stdio.h>

#include "commands.h"

static int report(const struct ctl *ctl, int code, const char *usage,
		  const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int report(const struct ctl *ctl, int code, const char *usage,
		  const char *fmt, va_list ap)
{
	char msg[1024];
	json_t *err;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!ctl->json) {
		fprintf(stderr, "%s: %s\n", ctl->prog, msg);
		if (usage != NULL)
			fputs(usage, stderr);
		return 0;
	}
	err = json_pack("{s:{s:s,s:i}}", "error", "message", msg, "code",
			code);
	return ctl_print_json(err);
}

int ctl_fail(const struct ctl *ctl, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ctl, code, NULL, fmt, ap);
	va_end(ap);
	return CTL_FAIL;
}

int ctl_usage_error(const struct ctl *ctl, const char *usage,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ctl, 0, usage, fmt, ap);
	va_end(ap);
	return CTL_USAGE;
}

void ctl_warn(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", ctl->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_print_json(json_t *result)
{
	int rc = CTL_FAIL;

	if (result != NULL &&
	    json_dumpf(result, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) == 0 &&
	    fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		rc = CTL_OK;
	json_decref(result);
	return rc;
}
