package dev.kiln.spark;

/** What kiln-spark throws for bad input, a model that fails to load or a peer that stopped answering: one line saying what, where and what to do. */
public final class KilnSparkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KilnSparkException(String message) { super(message); }
    public KilnSparkException(String message, Throwable cause) { super(message, cause); }
}
