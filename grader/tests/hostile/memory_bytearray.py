"""A memory bomb in pure Python: every call asks for a 16 GiB bytearray (one allocation, refused by
the address-space limit before any page is touched)."""


def _bomb():
    return bytearray(16 << 30)


def attention_scores(inputs):
    return _bomb()


def softmax_naive(x):
    return _bomb()


def attention_weights(scores):
    return _bomb()


def context_vectors(inputs):
    return _bomb()
