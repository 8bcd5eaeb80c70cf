// Setting a key read from client JSON on a plain object: defined, never assigned, because an
// assignment of "__proto__" sets the object's prototype instead (the key is lost and the value's
// keys then read as the object's own).

/** Sets `obj[key] = value` as an own, enumerable data property, whatever `key` is. */
export function setOwn(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
