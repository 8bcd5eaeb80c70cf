import { checkout } from "./cart.js";

export function submitOrder(cart) {
  const total = checkout(cart);
  return { ok: true, total };
}

globalThis.runShop = (report) => {
  try {
    submitOrder({ id: "c-1", lines: [{ price: 3, quantity: 2 }], paymentMethod: null });
  } catch (err) {
    report(err);
  }
};
