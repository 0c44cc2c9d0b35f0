/*
 * vec_passive_client_commit.c - mls/passive-client-handling-commit.json:
 * after joining, a Bulwark member processes the proposals and commits of
 * each epoch made by another implementation (by value and by reference,
 * with and without a path, public and private) and derives the same
 * epoch authenticator every epoch.
 */
#include "passive_client.h"

int main(int argc, char **argv)
{
	return passive_client_main(argc, argv,
				   "mls/passive-client-handling-commit.json",
				   "passive-client-handling-commit");
}
