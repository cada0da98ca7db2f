"""A generated history: requests over five categories, each with its own words (Spanish and
English, some accented) plus words every category shares, some mislabeled, in a fixed order
(seeded): what a company's past requests look like to the model."""

import random

VOCABULARY = {
    "Transporte": ("vehículo camión conductor ruta entrega gasolina llanta furgoneta truck "
                   "driver route delivery fuel tire van"),
    "Mantenimiento": ("bombillo lámpara tubería fuga pintura puerta cerradura aire "
                      "acondicionado bulb leak pipe paint door lock plumbing"),
    "Sistemas": ("computador impresora contraseña red correo servidor pantalla teclado "
                 "computer printer password network email server screen keyboard"),
    "Aseo": ("limpieza basura baño piso desinfección trapero jabón papelera cleaning "
             "trash bathroom floor mop soap bin"),
    "Compras": ("cotización proveedor factura pedido compra insumos papelería orden "
                "quotation supplier invoice purchase order supplies stationery"),
}
SHARED = ("por favor urgente necesito solicito revisar oficina piso sede mañana hoy please "
          "need request check office today soon").split()
PRIORITY_WORDS = {"urgent": "inmediato emergencia bloqueado", "low": "cuando puedan sin prisa",
                  "normal": "", "high": "pronto importante"}
CATEGORIES = tuple(VOCABULARY)
# How many of each (not balanced: the majority class is a real baseline)
WEIGHTS = (0.34, 0.22, 0.18, 0.14, 0.12)


def generate(count: int = 600, seed: int = 7, noise: float = 0.1) -> list[dict]:
    """``count`` requests, oldest first: title, description, category (name), priority."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        category = rng.choices(CATEGORIES, WEIGHTS)[0]
        priority = rng.choices(("low", "normal", "high", "urgent"), (0.2, 0.5, 0.2, 0.1))[0]
        own = VOCABULARY[category].split()
        title = " ".join(rng.sample(own, 2) + rng.sample(SHARED, 1)).capitalize()
        words = rng.sample(own, 3) + rng.sample(SHARED, 4) + PRIORITY_WORDS[priority].split()
        rng.shuffle(words)
        if rng.random() < noise:  # mislabeled: a real history has some
            category = rng.choice(CATEGORIES)
        rows.append({"title": title, "description": " ".join(words), "category": category,
                     "priority": priority})
    return rows
