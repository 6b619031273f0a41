"""The reviewer's desk: the queue of surveys waiting for a decision, their review flags, bulk approval."""
