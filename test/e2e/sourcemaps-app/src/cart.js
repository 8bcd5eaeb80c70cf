// A tiny shop for the source-map end-to-end test: the bug is in checkout(), two calls deep.
export function lineTotal(line) {
  return line.price * line.quantity;
}

export function checkout(cart) {
  if (!cart.paymentMethod) {
    throw new Error(`cart ${cart.id} has no payment method`);
  }
  return cart.lines.map(lineTotal).reduce((a, b) => a + b, 0);
}
