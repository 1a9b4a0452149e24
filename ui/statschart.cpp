// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "statschart.h"

#include <QLocale>
#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace wsserve {

StatsChart::StatsChart(Series series, QString title, QColor colour, QWidget *parent)
    : QWidget(parent)
    , m_series(series)
    , m_title(std::move(title))
    , m_colour(std::move(colour))
{
    setMinimumHeight(110);
}

void StatsChart::setSamples(const QList<StatsSample> &samples)
{
    m_samples = samples;
    update();
}

double StatsChart::valueOf(const StatsSample &sample) const
{
    switch (m_series) {
    case Series::MessagesIn:
        return sample.messagesInPerSecond;
    case Series::MessagesOut:
        return sample.messagesOutPerSecond;
    case Series::Clients:
        return sample.clients;
    case Series::Invalid:
        break;
    }
    return 0;
}

void StatsChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QRectF frame = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    painter.fillRect(frame, palette().base());
    painter.setPen(palette().mid().color());
    painter.drawRect(frame);

    double maximum = 1;
    for (const StatsSample &sample : std::as_const(m_samples)) {
        maximum = std::max(maximum, valueOf(sample));
    }
    // A round upper bound (1, 2, 5 x 10^n) keeps the scale readable while it changes.
    const double magnitude = std::pow(10.0, std::floor(std::log10(maximum)));
    double top = magnitude;
    for (const double step : {1.0, 2.0, 5.0, 10.0}) {
        if (step * magnitude >= maximum) {
            top = step * magnitude;
            break;
        }
    }
    // Axes: values on the left (0, half, top), time below (minutes ago .. now).
    const QRectF plot = frame.adjusted(48, 22, -10, -20);
    painter.setPen(QPen(palette().mid().color(), 1, Qt::DotLine));
    painter.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.right(), plot.top()));
    painter.drawLine(QPointF(plot.left(), plot.center().y()), QPointF(plot.right(), plot.center().y()));
    painter.setPen(palette().mid().color());
    painter.drawLine(plot.bottomLeft(), plot.bottomRight());
    painter.drawLine(plot.bottomLeft(), plot.topLeft());
    painter.setPen(palette().placeholderText().color());
    const QLocale locale;
    const auto valueLabel = [&](double value, double y) {
        painter.drawText(QRectF(frame.left() + 2, y - 8, plot.left() - frame.left() - 6, 16),
                         Qt::AlignRight | Qt::AlignVCenter, locale.toString(value, 'g', 4));
    };
    valueLabel(top, plot.top());
    valueLabel(top / 2, plot.center().y());
    valueLabel(0, plot.bottom());
    const int minutes = InstanceListModel::kHistorySeconds / 60;
    const QRectF timeRow(plot.left(), plot.bottom() + 2, plot.width(), 16);
    painter.drawText(timeRow, Qt::AlignLeft | Qt::AlignTop, tr("−%1 min").arg(minutes));
    painter.drawText(timeRow, Qt::AlignHCenter | Qt::AlignTop, tr("−%1 min").arg(minutes / 2.0));
    painter.drawText(timeRow, Qt::AlignRight | Qt::AlignTop, tr("now"));

    const double current = m_samples.isEmpty() ? 0 : valueOf(m_samples.last());
    painter.setPen(palette().text().color());
    painter.drawText(frame.adjusted(8, 4, -8, 0), Qt::AlignLeft | Qt::AlignTop,
                     tr("%1: %2").arg(m_title, QString::number(current, 'f', 0)));
    painter.setPen(palette().placeholderText().color());
    painter.drawText(frame.adjusted(8, 4, -8, 0), Qt::AlignRight | Qt::AlignTop, tr("sampled every second"));
    if (m_samples.size() < 2) {
        painter.drawText(plot, Qt::AlignCenter, tr("Collecting samples…"));
        return;
    }
    const double step = plot.width() / (InstanceListModel::kHistorySeconds - 1);
    const double startX = plot.right() - step * static_cast<double>(m_samples.size() - 1);
    QPainterPath line;
    for (qsizetype i = 0; i < m_samples.size(); ++i) {
        const QPointF point(startX + step * static_cast<double>(i),
                            plot.bottom() - plot.height() * valueOf(m_samples.at(i)) / top);
        if (i == 0) {
            line.moveTo(point);
        } else {
            line.lineTo(point);
        }
    }
    QPainterPath area = line;
    area.lineTo(QPointF(plot.right(), plot.bottom()));
    area.lineTo(QPointF(startX, plot.bottom()));
    area.closeSubpath();
    QColor fill = m_colour;
    fill.setAlpha(50);
    painter.fillPath(area, fill);
    painter.setPen(QPen(m_colour, 1.6));
    painter.drawPath(line);
}

} // namespace wsserve
