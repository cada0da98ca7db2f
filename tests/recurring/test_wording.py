"""The rule in words: every shape the rules accept reads as whole phrases in Spanish and in
English (positions with their weekday, "el penúltimo viernes"; lists joined as each language
joins them; singular and plural), never pieces glued ("el cuarto desde el final viernes")."""

import pytest
from flask_babel import force_locale

from app.recurring import wording

# rule -> (Spanish, English)
TABLE = {
    # minutes and hours
    "FREQ=MINUTELY;INTERVAL=30": ("Cada 30 minutos", "Every 30 minutes"),
    "FREQ=MINUTELY;INTERVAL=15;BYDAY=MO,FR;BYHOUR=8,9": (
        "Cada 15 minutos, los lunes y viernes, solo durante las horas que empiezan a las "
        "08:00 y 09:00",
        "Every 15 minutes, on Mondays and Fridays, only during the hours that start at 08:00 "
        "and 09:00"),
    "FREQ=HOURLY": ("Cada hora, en el minuto 0", "Every hour, at minute 0"),
    "FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,30": (
        "Cada 2 horas, en los minutos 0 y 30", "Every 2 hours, at minutes 0 and 30"),
    "FREQ=HOURLY;BYHOUR=9;BYMINUTE=15;BYDAY=SA": (
        "Cada hora, los sábados, solo durante la hora que empieza a las 09:00, en el minuto 15",
        "Every hour, on Saturdays, only during the hour that starts at 09:00, at minute 15"),
    # days
    "FREQ=DAILY;BYHOUR=9": ("Cada día, a las 09:00", "Every day, at 09:00"),
    "FREQ=DAILY;INTERVAL=3;BYHOUR=9,17;BYMINUTE=30": (
        "Cada 3 días, a las 09:30 y 17:30", "Every 3 days, at 09:30 and 17:30"),
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6": (
        "Los lunes, martes, miércoles, jueves y viernes, a las 06:00",
        "On Mondays, Tuesdays, Wednesdays, Thursdays, and Fridays, at 06:00"),
    "FREQ=DAILY;BYDAY=SA,SU;BYHOUR=6": (
        "Los sábados y domingos, a las 06:00", "On Saturdays and Sundays, at 06:00"),
    "FREQ=DAILY;BYMONTH=1,7;BYHOUR=9": (
        "Cada día, en enero y julio, a las 09:00", "Every day, in January and July, at 09:00"),
    "FREQ=DAILY;BYHOUR=8,9,10;BYMINUTE=0,15,30": (
        "Cada día, a las 08:00, 08:15, 08:30, 09:00, 09:15, 09:30 y a otras 3 horas",
        "Every day, at 08:00, 08:15, 08:30, 09:00, 09:15, 09:30 and 3 other times"),
    "FREQ=DAILY;BYHOUR=8,9;BYMINUTE=0,15,30,45": (
        "Cada día, a las 08:00, 08:15, 08:30, 08:45, 09:00, 09:15 y a otras 2 horas",
        "Every day, at 08:00, 08:15, 08:30, 08:45, 09:00, 09:15 and 2 other times"),
    "FREQ=DAILY;BYHOUR=8,9,10;BYMINUTE=0,20": (
        "Cada día, a las 08:00, 08:20, 09:00, 09:20, 10:00 y 10:20",
        "Every day, at 08:00, 08:20, 09:00, 09:20, 10:00, and 10:20"),
    # weeks
    "FREQ=WEEKLY;BYHOUR=9": ("Cada semana, a las 09:00", "Every week, at 09:00"),
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9": (
        "Cada semana, los lunes, a las 09:00", "Every week, on Mondays, at 09:00"),
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=7;BYMINUTE=30": (
        "Cada 2 semanas, los lunes y jueves, a las 07:30",
        "Every 2 weeks, on Mondays and Thursdays, at 07:30"),
    # months: a weekday at a position, every position there is
    "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9": (
        "Cada mes, el primer lunes, a las 09:00", "Every month, on the first Monday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=9": (
        "Cada mes, el segundo martes, a las 09:00",
        "Every month, on the second Tuesday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=3WE;BYHOUR=9": (
        "Cada mes, el tercer miércoles, a las 09:00",
        "Every month, on the third Wednesday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=4TH;BYHOUR=9": (
        "Cada mes, el cuarto jueves, a las 09:00",
        "Every month, on the fourth Thursday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=5SU;BYHOUR=9": (
        "Cada mes, el quinto domingo, a las 09:00",
        "Every month, on the fifth Sunday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9": (
        "Cada mes, el último viernes, a las 09:00", "Every month, on the last Friday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=-2FR;BYHOUR=9": (
        "Cada mes, el penúltimo viernes, a las 09:00",
        "Every month, on the second to last Friday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=-3SA;BYHOUR=9": (
        "Cada mes, el tercer sábado contando desde el final, a las 09:00",
        "Every month, on the third to last Saturday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=-4FR;BYHOUR=9": (
        "Cada mes, el cuarto viernes contando desde el final, a las 09:00",
        "Every month, on the fourth to last Friday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=-5MO;BYHOUR=9": (
        "Cada mes, el quinto lunes contando desde el final, a las 09:00",
        "Every month, on the fifth to last Monday, at 09:00"),
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO,-1FR;BYHOUR=9": (
        "Cada 2 meses, el primer lunes y el último viernes, a las 09:00",
        "Every 2 months, on the first Monday and the last Friday, at 09:00"),
    "FREQ=MONTHLY;BYDAY=MO;BYHOUR=9": (
        "Cada mes, los lunes, a las 09:00", "Every month, on Mondays, at 09:00"),
    "FREQ=MONTHLY;BYDAY=FR,1MO;BYHOUR=9": (
        "Cada mes, los viernes, el primer lunes, a las 09:00",
        "Every month, on Fridays, on the first Monday, at 09:00"),
    # months: days of the month
    "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9": (
        "Cada mes, el día 15, a las 09:00", "Every month, on day 15, at 09:00"),
    "FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=9": (
        "Cada mes, los días 1 y 15, a las 09:00", "Every month, on days 1 and 15, at 09:00"),
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9": (
        "Cada mes, el último día, a las 09:00", "Every month, on the last day, at 09:00"),
    "FREQ=MONTHLY;BYMONTHDAY=-2;BYHOUR=9": (
        "Cada mes, el penúltimo día, a las 09:00",
        "Every month, on the second to last day, at 09:00"),
    "FREQ=MONTHLY;BYMONTHDAY=1,-2,-3;BYHOUR=9": (
        "Cada mes, el día 1, el penúltimo día y el día 3 contando desde el final, a las 09:00",
        "Every month, on day 1, the second to last day, and day 3 counting from the end, "
        "at 09:00"),
    "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR;BYHOUR=9": (
        "Cada mes, el día 13, solo si cae en viernes, a las 09:00",
        "Every month, on day 13, only if it falls on a Friday, at 09:00"),
    "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=13;BYDAY=FR,SA;BYHOUR=9": (
        "Cada 3 meses, el día 13, solo si cae en viernes o sábado, a las 09:00",
        "Every 3 months, on day 13, only if it falls on a Friday or Saturday, at 09:00"),
    # years
    "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1;BYHOUR=8": (
        "Cada año, en marzo, el último día, a las 08:00",
        "Every year, in March, on the last day, at 08:00"),
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29": (
        "Cada 2 años, en febrero, el día 29, a las 00:00",
        "Every 2 years, in February, on day 29, at 00:00"),
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;BYHOUR=10": (
        "Cada año, en noviembre, el cuarto jueves, a las 10:00",
        "Every year, in November, on the fourth Thursday, at 10:00"),
    "FREQ=YEARLY;BYMONTH=6,12;BYDAY=-2WE;BYHOUR=10": (
        "Cada año, en junio y diciembre, el penúltimo miércoles, a las 10:00",
        "Every year, in June and December, on the second to last Wednesday, at 10:00"),
    # a count
    "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;COUNT=1": (
        "Cada mes, el primer lunes, a las 09:00, 1 vez en total",
        "Every month, on the first Monday, at 09:00, 1 time in all"),
    "FREQ=WEEKLY;BYDAY=TU;BYHOUR=9;COUNT=12": (
        "Cada semana, los martes, a las 09:00, 12 veces en total",
        "Every week, on Tuesdays, at 09:00, 12 times in all"),
}


@pytest.mark.parametrize("rule", list(TABLE))
def test_every_shape_in_spanish_and_english(app, rule):
    spanish, english = TABLE[rule]
    with app.test_request_context():
        with force_locale("es"):
            assert wording.describe(rule) == spanish
        with force_locale("en"):
            assert wording.describe(rule) == english


def test_the_default_language_is_spanish_and_junk_is_shown_as_given(app):
    with app.test_request_context():
        assert wording.describe("FREQ=MONTHLY;BYDAY=-4FR;BYHOUR=9") == (
            "Cada mes, el cuarto viernes contando desde el final, a las 09:00")
        assert wording.describe("not a rule") == "not a rule"
