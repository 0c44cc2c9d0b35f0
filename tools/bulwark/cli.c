/* cli.c - what bulwark's commands share: options, reporting, the device's
 * directory and the keystore passphrase. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "err.h"

#define TIMEOUT_MAX_SECONDS 3600

/* ---- reporting ---- */

static int fail(const struct cli *cli, int code, const char *msg,
		int status)
{
	if (!cli->json)
		fprintf(stderr, "%s: %s\n", cli->prog, msg);
	else
		cli_print_json(json_pack("{s:{s:s,s:i}}", "error", "message",
					 msg, "code", code));
	return status;
}

int cli_error(const struct cli *cli, const char *what, int err)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: %s", what, bulwark_strerror(err));
	return fail(cli, err, msg, CLI_FAIL);
}

int cli_usage(const struct cli *cli, const char *usage, const char *msg)
{
	fail(cli, 0, msg, CLI_USAGE);
	if (!cli->json && usage != NULL)
		fputs(usage, stderr);
	return CLI_USAGE;
}

int cli_print_json(json_t *result)
{
	int rc = CLI_FAIL;

	if (result != NULL &&
	    json_dumpf(result, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) == 0 &&
	    fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		rc = CLI_OK;
	json_decref(result);
	return rc;
}

void cli_format_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "-");
}

/* ---- options ---- */

static int parse_timeout(struct cli *cli, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 1 || v > TIMEOUT_MAX_SECONDS)
		return -1;
	cli->timeout_ms = (int)v * 1000;
	return 0;
}

int cli_common_option(struct cli *cli, int ch, const char *usage)
{
	switch (ch) {
	case CLI_OPT_HOME:
		cli->home = optarg;
		return CLI_CONTINUE;
	case CLI_OPT_PASSPHRASE_FILE:
		cli->passphrase_file = optarg;
		return CLI_CONTINUE;
	case CLI_OPT_JSON:
		cli->json = true;
		return CLI_CONTINUE;
	case CLI_OPT_TIMEOUT:
		if (parse_timeout(cli, optarg) != 0)
			return cli_usage(cli, usage,
					 "--timeout takes 1 to 3600 seconds");
		return CLI_CONTINUE;
	case CLI_OPT_HELP:
		fputs(usage, stdout);
		return CLI_OK;
	default:
		return cli_usage(cli, usage, "unknown option");
	}
}

/* ---- the device's directory ---- */

static const char *home_dir(const struct cli *cli, char *buf, size_t size)
{
	const char *env = getenv(CLI_HOME_ENV), *user_home = getenv("HOME");
	struct passwd *pw;

	if (cli->home != NULL)
		return cli->home;
	if (env != NULL && env[0] != '\0')
		return env;
	if ((user_home == NULL || user_home[0] == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		user_home = pw->pw_dir;
	if (user_home == NULL ||
	    (size_t)snprintf(buf, size, "%s/" CLI_HOME_DEFAULT, user_home) >=
		    size)
		return NULL;
	return buf;
}

int cli_keystore_path(struct cli *cli, bool create)
{
	char buf[sizeof(cli->keystore)];
	const char *home = home_dir(cli, buf, sizeof(buf));

	if (home == NULL ||
	    (size_t)snprintf(cli->keystore, sizeof(cli->keystore),
			     "%s/" CLI_KEYSTORE_FILE, home) >=
		    sizeof(cli->keystore) ||
	    (size_t)snprintf(cli->store, sizeof(cli->store),
			     "%s/" CLI_STORE_FILE, home) >= sizeof(cli->store))
		return fail(cli, 0, "no usable home directory: give --home DIR",
			    CLI_FAIL);
	/* Only its owner may look inside: the keystore is sealed anyway,
	 * but its name and size are nobody else's business. */
	if (create && mkdir(home, 0700) != 0 && errno != EEXIST) {
		char msg[4200];

		snprintf(msg, sizeof(msg), "cannot create %s: %s", home,
			 strerror(errno));
		return fail(cli, 0, msg, CLI_FAIL);
	}
	return CLI_OK;
}

/* ---- passphrases ---- */

bool cli_have_terminal(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int read_secret_line(int fd, char *buf, size_t size, size_t *len)
{
	char ch;
	ssize_t n;

	*len = 0;
	while ((n = read(fd, &ch, 1)) == 1 && ch != '\n') {
		if (*len + 1 >= size)
			return BULWARK_ERR_PASSPHRASE_TOO_LONG;
		buf[(*len)++] = ch;
	}
	if (n < 0)
		return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	return 0;
}

int cli_prompt_secret(const char *prompt, char **out)
{
	char buf[BULWARK_PASSPHRASE_MAX_LEN + 2];
	struct termios old, quiet;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	}
	rc = read_secret_line(fd, buf, sizeof(buf), &len);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : BULWARK_ERR_PASSPHRASE_UNAVAILABLE;
	close(fd);
	if (rc == 0 && len == 0)
		rc = BULWARK_ERR_PASSPHRASE_EMPTY;
	if (rc == 0 && (*out = malloc(len + 1)) == NULL)
		rc = BW_ERR_NOMEM;
	if (rc == 0) {
		memcpy(*out, buf, len);
		(*out)[len] = '\0';
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* Ask twice when a new keystore is made: a typo would lock it for good. */
static int prompt_passphrase(const struct cli *cli, bool confirm, char **out)
{
	char *again = NULL;
	int rc;

	if ((rc = cli_prompt_secret("Keystore passphrase: ", out)) != 0)
		return cli_error(cli, "passphrase", rc);
	if (!confirm)
		return CLI_OK;
	if ((rc = cli_prompt_secret("Keystore passphrase, again: ", &again)) !=
	    0) {
		bulwark_passphrase_free(*out);
		*out = NULL;
		return cli_error(cli, "passphrase", rc);
	}
	rc = strlen(*out) == strlen(again) &&
	     CRYPTO_memcmp(*out, again, strlen(again)) == 0;
	bulwark_passphrase_free(again);
	if (rc)
		return CLI_OK;
	bulwark_passphrase_free(*out);
	*out = NULL;
	return fail(cli, 0, "the two passphrases differ", CLI_FAIL);
}

int cli_passphrase(const struct cli *cli, bool confirm, char **out)
{
	char source[4200];
	int rc;

	*out = NULL;
	if (cli->passphrase_file != NULL)
		snprintf(source, sizeof(source), "file:%s",
			 cli->passphrase_file);
	else if (getenv(CLI_PASSPHRASE_ENV) != NULL)
		snprintf(source, sizeof(source), "env:%s", CLI_PASSPHRASE_ENV);
	else if (cli_have_terminal())
		return prompt_passphrase(cli, confirm, out);
	else
		return fail(cli, BULWARK_ERR_PASSPHRASE_UNAVAILABLE,
			    "no keystore passphrase and no terminal to ask on: "
			    "give --passphrase-file FILE or set "
			    "BULWARK_PASSPHRASE",
			    CLI_FAIL);
	if ((rc = bulwark_passphrase_load(source, out)) != 0)
		return cli_error(cli, "passphrase", rc);
	return CLI_OK;
}

/* ---- the device's conversations ---- */

int cli_open_device(struct cli *cli, struct bulwark_device **out)
{
	char *pass = NULL;
	int rc;

	*out = NULL;
	if ((rc = cli_keystore_path(cli, false)) != CLI_OK)
		return rc;
	if (access(cli->keystore, F_OK) != 0)
		return cli_error(cli, "not activated (run bulwark activate)",
				 BULWARK_ERR_KS_NO_FILE);
	if ((rc = cli_passphrase(cli, false, &pass)) != CLI_OK)
		return rc;
	rc = bulwark_device_open(cli->keystore, pass, out);
	bulwark_passphrase_free(pass);
	if (rc != 0)
		return cli_error(cli, cli->keystore, rc);
	return CLI_OK;
}

int cli_open_client(struct cli *cli, bool connect,
		    struct bulwark_client **out)
{
	struct bulwark_device *d = NULL;
	int rc;

	*out = NULL;
	if ((rc = cli_open_device(cli, &d)) != CLI_OK)
		return rc;
	if ((rc = bulwark_client_open(d, cli->store, out)) != 0)
		return cli_error(cli, cli->store, rc);
	if (connect && (rc = bulwark_client_connect(*out, cli->timeout_ms)) !=
			       0) {
		const char *server = bulwark_device_info(d)->server;

		rc = cli_error(cli, server, rc);
		bulwark_client_free(*out);
		*out = NULL;
		return rc;
	}
	return CLI_OK;
}
