package dev.navil4j.hub;

/** A model that cannot be resolved or downloaded from the hub; the message says why and what to do. */
public final class HubException extends RuntimeException {
    public HubException(String message) { super(message); }

    public HubException(String message, Throwable cause) { super(message, cause); }
}
