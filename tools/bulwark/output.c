/* output.c - messages and conversations as bulwark prints them: aligned
 * text for people, JSON for scripts. What members wrote is shown as they
 * wrote it, except that nothing in it reaches the terminal as a control
 * sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char *kind_name(int kind)
{
	return kind == BULWARK_MESSAGE_TITLE ? "title" : "text";
}

/* JSON strings must be UTF-8: a text that is not gets '?' for each byte
 * outside ASCII. */
static json_t *text_json(const char *p, size_t n)
{
	json_t *s = json_stringn(p, n);
	char *copy;

	if (s != NULL)
		return s;
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	s = json_stringn(copy, n);
	free(copy);
	return s;
}

json_t *cli_message_json(const struct bulwark_message *m)
{
	char when[32];

	cli_format_time((int64_t)m->time, when, sizeof(when));
	return json_pack("{s:I,s:s,s:s%,s:I,s:s,s:I,s:s,s:b,s:s,s:s,s:o}",
			 "id", (json_int_t)m->id, "conversation",
			 m->conversation, "short_id", m->conversation,
			 (size_t)BULWARK_SHORT_ID_LEN, "seq",
			 (json_int_t)m->seq, "time", when, "timestamp",
			 (json_int_t)m->time, "kind", kind_name(m->kind), "own",
			 m->own, "user", m->user, "device_id", m->device_id,
			 "text", text_json(m->text, m->text_len));
}

/* Printable ASCII, UTF-8 sequences and line breaks pass; every other
 * control byte (escape sequences above all) becomes '?'. */
static void put_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\n') {
			if (i + 1 < n) /* not after the last line */
				fputs("\n    ", stdout);
		} else if (ch == '\t' || (ch >= ' ' && ch != 0x7f)) {
			putchar(ch);
		} else {
			putchar('?');
		}
	}
}

void cli_print_message(const struct bulwark_message *m)
{
	char when[32];

	cli_format_time((int64_t)m->time, when, sizeof(when));
	printf("[%.*s] %s %s/%s%s: ", (int)BULWARK_SHORT_ID_LEN,
	       m->conversation, when, m->user, m->device_id,
	       m->own ? " (this device)" : "");
	if (m->kind == BULWARK_MESSAGE_TITLE)
		fputs("named the conversation: ", stdout);
	put_text(m->text, m->text_len);
	putchar('\n');
}

json_t *cli_conversation_json(const struct bulwark_conversation *v)
{
	json_t *members = json_array();
	char created[32];

	for (size_t i = 0; members != NULL && i < v->n_members; i++)
		json_array_append_new(
			members, json_pack("{s:s,s:s,s:I}", "user",
					   v->members[i].user, "device_id",
					   v->members[i].device_id, "leaf",
					   (json_int_t)v->members[i].leaf));
	cli_format_time((int64_t)v->created, created, sizeof(created));
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:s,s:o}", "id", v->id,
			 "short_id", v->short_id, "name", v->name, "created",
			 created, "epoch", (json_int_t)v->epoch, "active",
			 v->active, "epoch_authenticator",
			 v->epoch_authenticator, "members", members);
}

void cli_print_conversation(const struct bulwark_conversation *v)
{
	printf("%s  %-20s epoch %-4llu %s\n", v->short_id,
	       v->name[0] ? v->name : "-", (unsigned long long)v->epoch,
	       v->active ? "" : "(no longer a member)");
	for (size_t i = 0; i < v->n_members; i++)
		printf("          %s/%s\n", v->members[i].user,
		       v->members[i].device_id);
}

int cli_show_conversation(const struct cli *cli, struct bulwark_client *c,
			  const char *id, const char *key)
{
	struct bulwark_conversation *list = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = bulwark_conversations(c, &list, &n)) != 0)
		return cli_error(cli, "conversations", rc);
	for (i = 0; i < n && strcmp(list[i].id, id) != 0; i++)
		;
	if (i == n)
		rc = cli_error(cli, id, BULWARK_ERR_NO_CONVERSATION);
	else if (cli->json)
		rc = cli_print_json(json_pack("{s:o}", key,
					      cli_conversation_json(&list[i])));
	else
		cli_print_conversation(&list[i]);
	bulwark_conversations_free(list, n);
	return rc;
}
