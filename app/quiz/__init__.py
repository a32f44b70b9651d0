"""The Quiz tab: questions by topic, mixed or from past mistakes, with saved progress."""
